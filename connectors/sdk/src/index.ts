export {
  defineConnector,
  type ActionCall,
  type ActionContext,
  type ActionDefinition,
  type Connector,
  type ConnectorDefinition,
  type ConnectorLogger,
  type TriggerContext,
  type TriggerDefinition,
} from './connector.js';
export {
  ConnectorDefinitionError,
  ConnectorError,
  ConnectorValidationError,
  isConnectorError,
  type ConnectorErrorOptions,
  type ValidationIssue,
} from './errors.js';
export { parseActionInput, parseConnectorConfig } from './validation.js';
export type {
  ElementTemplate,
  TemplateBinding,
  TemplateChoice,
  TemplateConstraints,
  TemplateProperty,
} from './templates.js';
