/**
 * The `pectrack:` moddle extension (a bpmn-moddle package descriptor, the JSON shape bpmn-js
 * also takes): user-task assignment, connectors with input/output mappings, correlation keys.
 * Kept as a module rather than a .json file so it ships in the compiled package unchanged.
 */
export const pectrackDescriptor = {
  name: 'PECtrack',
  uri: 'http://pectrack.org/schema/bpmn/1.0',
  prefix: 'pectrack',
  xml: {
    tagAlias: 'lowerCase',
  },
  associations: [],
  types: [
    {
      name: 'AssignmentProperties',
      isAbstract: true,
      extends: ['bpmn:UserTask'],
      properties: [
        {
          name: 'assignee',
          isAttr: true,
          type: 'String',
        },
        {
          name: 'candidateUsers',
          isAttr: true,
          type: 'String',
        },
        {
          name: 'candidateOffices',
          isAttr: true,
          type: 'String',
        },
        {
          name: 'dueDate',
          isAttr: true,
          type: 'String',
        },
        {
          name: 'priority',
          isAttr: true,
          type: 'String',
        },
        {
          name: 'formKey',
          isAttr: true,
          type: 'String',
        },
      ],
    },
    {
      name: 'CorrelationProperties',
      isAbstract: true,
      extends: ['bpmn:ReceiveTask', 'bpmn:IntermediateCatchEvent'],
      properties: [
        {
          name: 'correlationKey',
          isAttr: true,
          type: 'String',
        },
      ],
    },
    {
      name: 'Connector',
      superClass: ['Element'],
      properties: [
        {
          name: 'type',
          isAttr: true,
          type: 'String',
        },
        {
          // What an SDK element template binds with `property: "action"`; the key is `type:action`.
          name: 'action',
          isAttr: true,
          type: 'String',
        },
        {
          name: 'inputs',
          isMany: true,
          type: 'Input',
        },
        {
          name: 'outputs',
          isMany: true,
          type: 'Output',
        },
      ],
    },
    {
      name: 'Input',
      superClass: ['Element'],
      properties: [
        {
          name: 'source',
          isAttr: true,
          type: 'String',
        },
        {
          name: 'target',
          isAttr: true,
          type: 'String',
        },
      ],
    },
    {
      name: 'Output',
      superClass: ['Element'],
      properties: [
        {
          name: 'source',
          isAttr: true,
          type: 'String',
        },
        {
          name: 'target',
          isAttr: true,
          type: 'String',
        },
      ],
    },
  ],
} as const;
