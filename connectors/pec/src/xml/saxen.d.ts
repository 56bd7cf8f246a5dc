/** The part of saxen (bpmn-io's SAX parser, no bundled types) the XML reader uses. */
declare module 'saxen' {
  type ContextGetter = () => { data: string; line: number; column: number };
  export class Parser {
    constructor(options?: { proxy?: boolean });
    on(
      event: 'openTag',
      handler: (
        name: string,
        attributes: () => Record<string, string>,
        decode: (s: string) => string,
        selfClosing: boolean,
        context: ContextGetter,
      ) => void,
    ): this;
    on(
      event: 'closeTag',
      handler: (
        name: string,
        decode: (s: string) => string,
        selfClosing: boolean,
        context: ContextGetter,
      ) => void,
    ): this;
    on(
      event: 'text',
      handler: (value: string, decode: (s: string) => string, context: ContextGetter) => void,
    ): this;
    on(event: 'cdata', handler: (value: string, context: ContextGetter) => void): this;
    on(event: 'error' | 'warn', handler: (error: Error, context: ContextGetter) => void): this;
    on(event: 'attention' | 'question' | 'comment', handler: (value: string) => void): this;
    parse(xml: string): void;
  }
}
