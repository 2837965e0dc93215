// Dynamic parameters as coderd serves them (coderd/parameters.go): the form of a template
// version rendered for an owner and the inputs so far. The simulator evaluates one small
// conditional parameter set, the one Coder's own runner pushes
// (scaletest/dynamicparameters/workspace-template.tf): `zero` picks the options of `One`,
// `Two` defaults to One's choice, `Three`'s options follow `Two`, and `four` lists the
// owner's roles. A render that used other inputs than the ones sent is visibly wrong, so a
// client can tell a correct answer from a stale one. Template versions without that set render
// their static parameters, with the warning coderd gives versions imported without
// dynamic-parameter metadata (handleStaticParameters).

export interface NullHCLString {
  value: string;
  valid: boolean;
}

export interface FriendlyDiagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail: string;
  extra: { code: string };
}

export interface PreviewParameterOption {
  name: string;
  description: string;
  value: NullHCLString;
  icon: string;
}

export interface PreviewParameter {
  name: string;
  display_name: string;
  description: string;
  type: 'string' | 'number' | 'bool' | 'list(string)';
  form_type: string;
  styling: Record<string, never>;
  mutable: boolean;
  default_value: NullHCLString;
  icon: string;
  options: PreviewParameterOption[];
  validations: never[];
  required: boolean;
  order: number;
  ephemeral: boolean;
  value: NullHCLString;
  diagnostics: FriendlyDiagnostic[];
}

export interface DynamicParametersResponse {
  id: number;
  diagnostics: FriendlyDiagnostic[];
  parameters: PreviewParameter[];
}

export interface RenderOwner {
  username: string;
  /** Role names (site and organization roles), as coderd's getWorkspaceOwnerData lists them. */
  roles: string[];
}

const literal = (value: string): NullHCLString => ({ value, valid: true });

const ONE_OPTIONS: Record<string, string[]> = { A: ['AA', 'AB'], B: ['BA', 'BB'] };
const THREE_OPTIONS: Record<string, string[]> = {
  AA: ['AAA', 'AAB'],
  AB: ['ABA', 'ABB'],
  BA: ['BAA', 'BAB'],
  BB: ['BBA', 'BBB'],
};

/** terraform-provider-coder's option check, as coderd's preview reports it. */
function optionDiagnostic(value: string): FriendlyDiagnostic {
  return {
    severity: 'error',
    summary: 'Value must be a valid option',
    detail: `the value "${value}" must be defined as one of options`,
    extra: { code: '' },
  };
}

function parameter(
  fields: Pick<PreviewParameter, 'name' | 'display_name' | 'description' | 'type' | 'form_type' | 'order'> & {
    mutable?: boolean;
    defaultValue: string;
    options: Array<{ name: string; value: string }>;
  },
  input: string | undefined,
): PreviewParameter {
  const value = input ?? fields.defaultValue;
  const options = fields.options.map((option) => ({ name: option.name, description: '', value: literal(option.value), icon: '' }));
  const valid =
    fields.type === 'list(string)'
      ? listValues(value).every((item) => fields.options.some((o) => o.value === item))
      : fields.options.some((o) => o.value === value);
  return {
    name: fields.name,
    display_name: fields.display_name,
    description: fields.description,
    type: fields.type,
    form_type: fields.form_type,
    styling: {},
    mutable: fields.mutable ?? true,
    default_value: literal(fields.defaultValue),
    icon: '',
    options,
    validations: [],
    required: false,
    order: fields.order,
    ephemeral: false,
    value: literal(value),
    diagnostics: valid ? [] : [optionDiagnostic(value)],
  };
}

function listValues(value: string): string[] {
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.map(String) : [value];
  } catch {
    return [value];
  }
}

/** The reference runner's parameter chain, evaluated for these inputs and this owner. */
export function renderConditionalParameters(inputs: Record<string, string>, owner: RenderOwner): PreviewParameter[] {
  const zero = parameter(
    {
      name: 'zero',
      display_name: 'Root',
      description: `Hello ${owner.username}, pick your next parameter using this \`dropdown\` parameter.`,
      type: 'string',
      form_type: 'dropdown',
      order: 0,
      defaultValue: 'A',
      options: [
        { name: 'A', value: 'A' },
        { name: 'B', value: 'B' },
      ],
    },
    inputs.zero,
  );
  const oneChoices = ONE_OPTIONS[zero.value.value] ?? [];
  const one = parameter(
    {
      name: 'One',
      display_name: 'Level One',
      description: 'This is the first level.',
      type: 'list(string)',
      form_type: 'multi-select',
      order: 2,
      defaultValue: JSON.stringify(oneChoices.slice(0, 1)),
      options: oneChoices.map((value) => ({ name: value, value })),
    },
    inputs.One,
  );
  // trim(data.coder_parameter.one.value, "[\"]")
  const twoDefault = one.value.value.replace(/^[["]+|[\]"]+$/g, '');
  const two: PreviewParameter = {
    ...parameter(
      {
        name: 'Two',
        display_name: 'Level Two',
        description: 'This is the second level.',
        type: 'string',
        form_type: 'textarea',
        order: 3,
        defaultValue: twoDefault,
        options: [],
      },
      inputs.Two,
    ),
    diagnostics: [],
  };
  const threeChoices = THREE_OPTIONS[two.value.value] ?? [];
  const three = parameter(
    {
      name: 'Three',
      display_name: 'Level Three',
      description: 'This is the third level.',
      type: 'string',
      form_type: 'radio',
      order: 4,
      defaultValue: threeChoices[0] ?? '',
      options: threeChoices.map((value) => ({ name: value, value })),
    },
    inputs.Three,
  );
  const four = parameter(
    {
      name: 'four',
      display_name: 'Level Four',
      description: 'This is the last level.',
      type: 'string',
      form_type: 'radio',
      order: 5,
      mutable: false,
      defaultValue: 'a_fake_value_to_satisfy_import',
      options: [
        { name: `${owner.username}-${three.value.value}`, value: 'a_fake_value_to_satisfy_import' },
        ...owner.roles.map((role) => ({ name: `${role}-${three.value.value}`, value: role })),
      ],
    },
    inputs.four,
  );
  return [zero, one, two, three, four];
}

/** A version's own parameters (as imported), each set to its input or its default, options checked. */
export function renderStaticParameters(
  parameters: ReadonlyArray<{
    name: string;
    display_name: string;
    description: string;
    type: string;
    form_type?: string;
    mutable: boolean;
    default_value: string;
    options: Array<{ name: string; value: string }>;
  }>,
  inputs: Record<string, string>,
): PreviewParameter[] {
  return parameters.map((p, order) => {
    const rendered = parameter(
      {
        name: p.name,
        display_name: p.display_name,
        description: p.description,
        type: (['string', 'number', 'bool', 'list(string)'].includes(p.type) ? p.type : 'string') as PreviewParameter['type'],
        form_type: p.form_type || (p.options.length ? 'radio' : 'input'),
        order,
        mutable: p.mutable,
        defaultValue: p.default_value,
        options: p.options,
      },
      inputs[p.name],
    );
    return p.options.length ? rendered : { ...rendered, diagnostics: [] };
  });
}
