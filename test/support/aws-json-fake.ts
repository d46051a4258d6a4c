/**
 * A loopback stand-in for the two JSON-protocol actions the poller calls to read tokens: SSM
 * `GetParameter` and Secrets Manager `GetSecretValue` (no emulator of either runs here). It
 * speaks the wire protocol the SDK speaks — POST /, `X-Amz-Target`, `application/x-amz-json-1.1`,
 * errors as `{"__type": …, "message": …}` with `X-Amzn-ErrorType` — and checks each request's
 * SigV4 signature against the credentials it is given (default: the environment's, as the
 * test setup sets them) by signing the request it received once more, so
 * a request altered after signing (host, body, target) is refused as AWS would refuse it. Tests
 * also point the SDK's own SSMClient at it, which keeps the stand-in honest about the protocol.
 * Faults: `failNext` answers the next requests with an error, `htmlNext` with an HTML page,
 * `hangNext` never answers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/transport';
import { SignatureV4 } from '@smithy/signature-v4';

export interface FakeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface AwsJsonFake {
  readonly endpoint: string;
  /** SSM parameters by name (SecureString values are stored as given). */
  readonly parameters: Map<string, string>;
  /** Secrets Manager SecretString by id. */
  readonly secrets: Map<string, string>;
  /** Every request received: its target and decoded body. */
  readonly calls: Array<{ readonly target: string; readonly input: Record<string, unknown> }>;
  /** The next `count` requests are answered `status` with this error type. */
  failNext(count: number, status: number, type: string, message?: string): void;
  /** The next `count` requests are answered `status` with an HTML page, as a proxy or load balancer would. */
  htmlNext(count: number, status: number): void;
  /** The next `count` requests get no answer at all. */
  hangNext(count: number): void;
  close(): Promise<void>;
}

/**
 * Starts the stand-in for a test file (beforeAll) with the token reads routed to it
 * (AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL_SECRETS_MANAGER), and stops it and puts the
 * variables back afterwards (afterAll). Returns a getter of the running stand-in.
 */
export function useAwsJsonFake(hooks: {
  beforeAll: (fn: () => Promise<void>) => void;
  afterAll: (fn: () => Promise<void>) => void;
}): () => AwsJsonFake {
  let fake: AwsJsonFake | undefined;
  const saved = { ssm: process.env.AWS_ENDPOINT_URL_SSM, secrets: process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER };
  hooks.beforeAll(async () => {
    fake = await startAwsJsonFake();
    process.env.AWS_ENDPOINT_URL_SSM = fake.endpoint;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = fake.endpoint;
  });
  hooks.afterAll(async () => {
    await fake?.close();
    process.env.AWS_ENDPOINT_URL_SSM = saved.ssm;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved.secrets;
  });
  return () => {
    if (!fake) throw new Error('the AWS stand-in is not started yet (use it inside a test)');
    return fake;
  };
}

export async function startAwsJsonFake(
  region = process.env.AWS_REGION ?? 'eu-central-1',
  credentials: FakeCredentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
  },
): Promise<AwsJsonFake> {
  const parameters = new Map<string, string>();
  const secrets = new Map<string, string>();
  const calls: Array<{ target: string; input: Record<string, unknown> }> = [];
  const failures: Array<{ status: number; type: string; message: string; html?: boolean }> = [];
  let hanging = 0;
  const held: ServerResponse[] = [];

  function fail(res: ServerResponse, status: number, type: string, message: string) {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': `${type}:` });
    res.end(JSON.stringify({ __type: `com.amazonaws.fake#${type}`, message }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    if (hanging > 0) {
      hanging--;
      held.push(res);
      return;
    }
    const failure = failures.shift();
    if (failure?.html) {
      res.writeHead(failure.status, { 'content-type': 'text/html' });
      return res.end(`<html><body><h1>${failure.status} Bad Gateway</h1></body></html>`);
    }
    if (failure) return fail(res, failure.status, failure.type, failure.message);
    if (!(await signatureHolds(req, body, region, credentials)))
      return fail(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match');
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return fail(res, 400, 'SerializationException', 'not JSON');
    }
    calls.push({ target, input });
    const answer = (value: unknown) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(value));
    };
    if (target === 'AmazonSSM.GetParameter') {
      const name = String(input.Name);
      const value = parameters.get(name);
      if (value === undefined) return fail(res, 400, 'ParameterNotFound', '');
      return answer({ Parameter: { Name: name, Type: 'SecureString', Value: value, Version: 1 } });
    }
    if (target === 'secretsmanager.GetSecretValue') {
      const id = String(input.SecretId);
      const value = secrets.get(id);
      if (value === undefined)
        return fail(res, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return answer({
        ARN: `arn:aws:secretsmanager:${region}:111111111111:secret:${id}`,
        Name: id,
        SecretString: value,
      });
    }
    return fail(res, 400, 'UnknownOperationException', `no such action: ${target}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => fail(res, 500, 'InternalServerError', String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    parameters,
    secrets,
    calls,
    failNext: (count, status, type, message = type) => {
      for (let i = 0; i < count; i++) failures.push({ status, type, message });
    },
    htmlNext: (count, status) => {
      for (let i = 0; i < count; i++) failures.push({ status, type: '', message: '', html: true });
    },
    hangNext: (count) => {
      hanging += count;
    },
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Signs the received request again with the credentials and its own date and signed headers. */
async function signatureHolds(
  req: IncomingMessage,
  body: string,
  region: string,
  credentials: FakeCredentials,
): Promise<boolean> {
  const authorization = String(req.headers.authorization ?? '');
  const match =
    /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(
      authorization,
    );
  if (!match || match[1] !== credentials.accessKeyId || match[2] !== region) return false;
  const signed = new Set(match[4]!.split(';'));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (signed.has(name) && typeof value === 'string') headers[name] = value;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const date = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({ service: match[3]!, region, credentials, sha256: Sha256 });
  const again = await signer.sign(
    new HttpRequest({ method: req.method, hostname: '127.0.0.1', path: req.url ?? '/', headers, body }),
    { signingDate: date, signableHeaders: signed },
  );
  return again.headers.authorization === authorization;
}
