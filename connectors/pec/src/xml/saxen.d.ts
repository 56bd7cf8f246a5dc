/** The part of saxen (bpmn-io's SAX parser, no bundled types) the XML reader uses. */
declare module 'saxen' {
  type Context = () => { data: string; line: number; column: number };
  type Decode = (text: string) => string;
  type Attributes = () => Record<string, string>;
  export class Parser {
    on(
      event: 'openTag',
      handler: (
        name: string,
        attributes: Attributes,
        decode: Decode,
        selfClosing: boolean,
        context: Context,
      ) => void,
    ): this;
    on(
      event: 'closeTag',
      handler: (name: string, decode: Decode, selfClosing: boolean, context: Context) => void,
    ): this;
    on(event: 'text', handler: (value: string, decode: Decode, context: Context) => void): this;
    on(event: 'cdata', handler: (value: string, context: Context) => void): this;
    on(event: 'error' | 'warn', handler: (error: Error, context: Context) => void): this;
    on(event: 'attention' | 'question' | 'comment', handler: (value: string) => void): this;
    parse(xml: string): void;
  }
}
