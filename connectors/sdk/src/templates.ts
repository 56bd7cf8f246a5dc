/**
 * Element templates in the Camunda element-template JSON shape, bound to the `pectrack:` extension
 * namespace instead of `camunda:`/`zeebe:`, so the designer's template support works unchanged.
 * Camunda's own schema allows only its binding types, so these templates name none (`$schema`):
 * Camunda Desktop Modeler refuses them; PECtrack's designer reads them.
 */
export type TemplateBinding =
  /** Sets the connector type (`property: "type"`) or the action name (`property: "action"`). */
  | { type: 'pectrack:connector'; property: 'type' | 'action' }
  /** An input mapping: `name` is the action input field, the property value a FEEL expression. */
  | { type: 'pectrack:input'; name: string }
  /** An output mapping: `source` is the action output field, the property value the variable. */
  | { type: 'pectrack:output'; source: string };

export interface TemplateChoice {
  name: string;
  value: string;
}

export interface TemplateConstraints {
  notEmpty?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string | { value: string; message: string };
}

export interface TemplateProperty {
  id?: string;
  label?: string;
  description?: string;
  type: 'String' | 'Text' | 'Boolean' | 'Dropdown' | 'Hidden';
  value?: string | boolean;
  editable?: boolean;
  optional?: boolean;
  feel?: 'optional' | 'required';
  group?: string;
  choices?: TemplateChoice[];
  constraints?: TemplateConstraints;
  binding: TemplateBinding;
}

export interface ElementTemplate {
  /** Never Camunda's (see above): a template claiming it fails Desktop Modeler's check. */
  $schema?: string;
  name: string;
  id: string;
  version?: number;
  description?: string;
  documentationRef?: string;
  appliesTo: string[];
  elementType?: { value: string };
  category?: { id: string; name: string };
  icon?: { contents: string };
  groups?: { id: string; label: string }[];
  properties: TemplateProperty[];
}
