/** ARM error answers and the response shape the emulator's handlers return. */

/** An HTTP answer from a handler: status, headers and an optional JSON body. */
export interface ArmResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** An ARM error; rendered as `{"error":{"code","message"}}` with its status. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {}
  ) {
    super(message);
    this.name = 'ArmError';
  }

  /** The error as an HTTP answer. */
  toResponse(): ArmResponse {
    return {
      status: this.status,
      headers: this.headers,
      body: { error: { code: this.code, message: this.message } },
    };
  }
}

/** 405 for a method a resource does not serve. */
export function methodNotAllowed(method: string): ArmError {
  return new ArmError(
    405,
    'MethodNotAllowed',
    `The requested resource does not support http method '${method}'.`
  );
}

/** 404 for a resource group that does not exist. */
export function resourceGroupNotFound(rg: string): ArmError {
  return new ArmError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
}

/** 404 for a resource that does not exist. */
export function resourceNotFound(type: string, name: string, rg: string): ArmError {
  return new ArmError(
    404,
    'ResourceNotFound',
    `The Resource '${type}/${name}' under resource group '${rg}' was not found.`
  );
}

/** 400 for a malformed or missing request value. */
export function invalidParameter(message: string): ArmError {
  return new ArmError(400, 'InvalidParameter', message);
}

/** 409 for a write while another operation on the same resource runs. */
export function anotherOperation(id: string, verb: string): ArmError {
  return new ArmError(
    409,
    'AnotherOperationInProgress',
    `Operation on resource ${id} cannot proceed: another operation (${verb}) is in progress on it.`
  );
}
