import { describe, expect, it } from 'vitest';
import { ConnectorError, ConnectorValidationError } from '@pectrack/connector-sdk';
import { runAction } from '@pectrack/connector-sdk/testing';
import { createPecConnector, PEC_CONNECTOR_TYPE, PecSendInput } from './connector.js';

/** Validation must stop every call below before the host is asked to send anything. */
const connector = createPecConnector({
  send: () => Promise.reject(new Error('the host must not be reached')),
});
const call = {
  idempotencyKey: 'k1',
  tenantId: 'default',
  instanceId: 'i1',
  elementId: 'send',
  attempt: 1,
};
const message = { to: 'ufficio@regione.pec.test', subject: 'Pratica 7', text: 'In allegato.' };

const failure = (input: unknown, config: unknown = { mailboxId: 'm1' }) =>
  runAction(connector, 'send', { config, input, call }).then(
    () => null,
    (error: unknown) => error,
  );

describe('the PEC connector definition', () => {
  it('names the field of an invalid recipient or attachment reference', async () => {
    const badAddress = await failure({ ...message, to: 'ufficio' });
    expect(badAddress).toBeInstanceOf(ConnectorValidationError);
    expect((badAddress as ConnectorValidationError).issues.map((i) => i.path)).toEqual(['to']);

    const badBlob = await failure({
      ...message,
      attachments: [{ filename: 'a.pdf', blob: 'abc' }],
    });
    expect((badBlob as ConnectorValidationError).message).toMatch(
      /attachments\.0\.blob: must be the SHA-256/,
    );
  });

  it('refuses to send without a mailbox from the task or the config', async () => {
    const error = await failure(message, {});
    expect(error).toBeInstanceOf(ConnectorError);
    expect((error as ConnectorError).code).toBe('MAILBOX_MISSING');
  });

  it('has a template that sets its type for send and service tasks', () => {
    const [template] = connector.templates;
    expect(template!.appliesTo).toEqual(['bpmn:SendTask', 'bpmn:ServiceTask']);
    expect(template!.properties[0]).toMatchObject({
      value: PEC_CONNECTOR_TYPE,
      binding: { property: 'type' },
    });
  });

  it('lets a template set every field the send takes, and no other', () => {
    const [template] = connector.templates;
    const inputs = template!.properties
      .map((p) => p.binding)
      .filter((b) => b.type === 'pectrack:input')
      .map((b) => (b as { name: string }).name);
    expect(inputs.sort()).toEqual(Object.keys(PecSendInput.shape).sort());
  });
});
