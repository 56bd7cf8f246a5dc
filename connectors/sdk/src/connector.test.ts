import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConnectorDefinitionError,
  ConnectorError,
  ConnectorValidationError,
  defineConnector,
} from './index.js';
import { createRecordingLogger, runAction } from './testing.js';

function echoConnector(templateAction = 'echo') {
  return defineConnector({
    type: 'pectrack:echo',
    version: '1.0.0',
    configSchema: z.object({ prefix: z.string().min(1) }),
    templates: [
      {
        name: 'Echo',
        id: 'pectrack.echo',
        appliesTo: ['bpmn:ServiceTask'],
        properties: [
          {
            type: 'Hidden',
            value: 'pectrack:echo',
            binding: { type: 'pectrack:connector', property: 'type' },
          },
          {
            type: 'Hidden',
            value: templateAction,
            binding: { type: 'pectrack:connector', property: 'action' },
          },
          { type: 'String', label: 'Text', binding: { type: 'pectrack:input', name: 'text' } },
          {
            type: 'String',
            label: 'Result variable',
            binding: { type: 'pectrack:output', source: 'echoed' },
          },
        ],
      },
    ],
    actions: {
      echo: {
        inputSchema: z.object({ text: z.string(), times: z.number().int().positive().default(1) }),
        async run(input, { config, logger }) {
          logger.info({ times: input.times }, 'echoing');
          if (input.text === 'busy')
            throw new ConnectorError('BUSY', 'try later', { retryable: true });
          if (input.text === 'paced')
            throw new ConnectorError('PACED', 'call again in a second', { retryAfterMs: 1_000 });
          if (input.text === 'throttled')
            throw new ConnectorError('THROTTLED', 'refused for a minute', {
              retryNotBeforeMs: 60_000,
            });
          return { echoed: config.prefix + input.text.repeat(input.times) };
        },
      },
    },
  });
}

describe('defineConnector', () => {
  it('rejects a template bound to an action the connector does not have', () => {
    expect(() => echoConnector('shout')).toThrow(ConnectorDefinitionError);
    expect(() => echoConnector('shout')).toThrow(/unknown action "shout"/);
  });

  it('rejects a version that is not semver', () => {
    expect(() =>
      defineConnector({
        type: 'x',
        version: 'latest',
        configSchema: z.object({}),
        templates: [],
        actions: {},
      }),
    ).toThrow(/not semver/);
  });
});

describe('runAction', () => {
  it('runs the action with parsed config and input and the defaults filled in', async () => {
    const logger = createRecordingLogger();
    const output = await runAction(echoConnector(), 'echo', {
      config: { prefix: '> ' },
      input: { text: 'ab' },
      logger,
    });
    expect(output).toEqual({ echoed: '> ab' });
    expect(logger.entries).toEqual([{ level: 'info', fields: { times: 1 }, message: 'echoing' }]);
  });

  it('names the bad config field', async () => {
    const run = runAction(echoConnector(), 'echo', {
      config: { prefix: '' },
      input: { text: 'a' },
    });
    await expect(run).rejects.toBeInstanceOf(ConnectorValidationError);
    await expect(run).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      retryable: false,
      issues: [{ path: 'prefix' }],
    });
  });

  it('names the bad input field', async () => {
    const run = runAction(echoConnector(), 'echo', {
      config: { prefix: '>' },
      input: { text: 'a', times: 0 },
    });
    await expect(run).rejects.toMatchObject({ code: 'INPUT_INVALID', issues: [{ path: 'times' }] });
  });

  it('passes a retryable error through unchanged', async () => {
    const run = runAction(echoConnector(), 'echo', {
      config: { prefix: '>' },
      input: { text: 'busy' },
    });
    await expect(run).rejects.toMatchObject({ code: 'BUSY', retryable: true });
  });

  it('passes a call-me-later through with its delay, retryable', async () => {
    const run = runAction(echoConnector(), 'echo', {
      config: { prefix: '>' },
      input: { text: 'paced' },
    });
    await expect(run).rejects.toMatchObject({
      code: 'PACED',
      retryable: true,
      retryAfterMs: 1_000,
    });
  });

  it('passes a failure with the least wait before its retry through, retryable and not a deferral', async () => {
    const run = runAction(echoConnector(), 'echo', {
      config: { prefix: '>' },
      input: { text: 'throttled' },
    });
    await expect(run).rejects.toMatchObject({
      code: 'THROTTLED',
      retryable: true,
      retryNotBeforeMs: 60_000,
      retryAfterMs: undefined,
    });
  });
});
