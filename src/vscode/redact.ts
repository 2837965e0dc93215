// Last line of defence for "no secret in logs or messages": every text the extension writes
// to its log or shows passes through here, with every token it knows of replaced.
// No vscode import.
export class SecretRedactor {
  private readonly secrets = new Set<string>();

  /** Remembers a secret; short strings are ignored (they would redact ordinary words). */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 8) this.secrets.add(secret);
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.split(secret).join('***');
    // Tokens we were never told about, in the forms they take on the wire.
    return result
      .replace(/(Coder-Session-Token["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi, '$1***')
      .replace(/(CODER_SESSION_TOKEN=)\S+/g, '$1***')
      .replace(/(coder_session_token=)[^;\s]+/gi, '$1***');
  }
}
