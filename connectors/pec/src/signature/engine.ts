import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

/*
 * PKI.js needs a WebCrypto engine. Setting it explicitly from node:crypto makes the choice independent
 * of whatever globalThis.crypto another module may have installed.
 */
type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
pkijs.setEngine('nodejs-webcrypto', new pkijs.CryptoEngine({ name: 'nodejs-webcrypto', crypto: webcrypto as unknown as EngineCrypto }));

export { pkijs };
