// coderd's error answers: `{message, detail, validations}` with its status codes and wording.
import type * as S from '../../coder/schemas';

export const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';
export const NOT_FOUND = 'Resource not found or you do not have access to this resource';

/** An error answer in coderd's `{message, detail, validations}` shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string,
    readonly validations?: S.ValidationError[],
    /** Extra response headers (e.g. Retry-After on a 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const validationFailed = (validations: S.ValidationError[]) => new HttpError(400, 'Validation failed.', undefined, validations);
export const requiredField = (field: string) => ({ field, detail: `Validation failed for tag "required" with value: ""` });
export const forbidden = () => new HttpError(403, 'Forbidden.');
export const notFound = () => new HttpError(404, NOT_FOUND);
export const needsWebSocket = () => new HttpError(400, 'This endpoint requires a WebSocket upgrade.');

export function errorBody(error: HttpError): S.Response {
  return {
    message: error.message,
    ...(error.detail ? { detail: error.detail } : {}),
    ...(error.validations ? { validations: error.validations } : {}),
  };
}
