/**
 * Every route registers its description here as it is mounted, so the
 * OpenAPI document is built from the very schemas that validate requests.
 */
import type { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface ContentDoc {
  contentType: string;
  schema?: z.ZodType;
  /** For bodies that zod does not describe (XML, multipart with files, text). */
  jsonSchema?: Record<string, unknown>;
}

export interface ResponseDoc extends Partial<ContentDoc> {
  status: number;
  description: string;
}

/** An error answer worth naming in the document: its status, and when and which problem. */
export interface ProblemDoc {
  status: number;
  description: string;
}

export interface OperationDoc {
  method: HttpMethod;
  /** Koa style, `:name` parameters, full path from the server root. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  secured: boolean;
  permission?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  requestBody?: ContentDoc[];
  responses: ResponseDoc[];
  problems?: ProblemDoc[];
}

export class ApiCatalog {
  readonly operations: OperationDoc[] = [];

  add(operation: OperationDoc): void {
    this.operations.push(operation);
  }
}
