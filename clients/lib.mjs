// What the Node clients of `make clients` share: the server of clients/run.sh (GRAPHQL_BASE,
// API_KEY), each API's headers and path, a fetch that records every request and answer (to
// assert what went over the wire, not only what the client library returned), and a check
// runner that reports every failure and sets the exit status.

export const BASE = process.env.GRAPHQL_BASE;
export const KEY = process.env.API_KEY;
if (!BASE || !KEY) throw new Error("GRAPHQL_BASE and API_KEY are set by clients/run.sh");

export const VERSION_HEADER = "Healthie-GraphQL-API-Version";
/** Healthie's clients: `POST /graphql` (no slash), Basic key + AuthorizationSource. */
export const HEALTHIE_URL = `${BASE}/graphql`;
export function healthieHeaders(version) {
  const headers = { Authorization: `Basic ${KEY}`, AuthorizationSource: "API" };
  if (version) headers[VERSION_HEADER] = version;
  return headers;
}
/** Teachify's clients: `/graphql/` with X-Teachify-API-Key; Teachify has no versions. */
export const TEACHIFY_URL = `${BASE}/graphql/`;
export const teachifyHeaders = () => ({ "X-Teachify-API-Key": KEY });

/** The contract's example learner, course and enrollment (seed_demo makes them). */
export const EXAMPLE_USER_ID = "387b0c87-0f85-44cc-833e-7306c1b5d3e6";
export const EXAMPLE_COURSE_ID = "9a1216f7-36de-4c50-8094-2ebfb7d3c383";
export const EXAMPLE_ENROLLMENT_ID = "619ad939-8591-40ad-9364-cf3825a9bf70";

/** A fetch that keeps {method, url, headers, body, status, answer} of every exchange. */
export function recordingFetch() {
  const exchanges = [];
  async function recorded(input, init = {}) {
    const request = new Request(input, init);
    const body = init.body === undefined ? undefined : String(init.body);
    const response = await fetch(input, init);
    const text = await response.clone().text();
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = text;
    }
    exchanges.push({
      method: request.method,
      url: new URL(request.url),
      headers: Object.fromEntries(request.headers),
      body: body === undefined ? undefined : safeJson(body),
      status: response.status,
      contentType: response.headers.get("content-type"),
      contentEncoding: response.headers.get("content-encoding"),
      size: text.length,
      answer,
    });
    return response;
  }
  recorded.exchanges = exchanges;
  return recorded;
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const failures = [];

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function same(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}: got ${a}, expected ${e}`);
}

/** Runs one check; a failure is printed with what was got, and the run goes on. */
export async function check(name, fn) {
  try {
    const result = await fn();
    console.log(`  ok   ${name}`);
    return result;
  } catch (error) {
    const detail = error?.stack?.split("\n").slice(0, 1).join("") ?? String(error);
    failures.push(`${name}: ${detail}`);
    console.log(`  FAIL ${name}: ${describe(error)}`);
    return undefined;
  }
}

function describe(error) {
  if (error?.errors) return `${error.message} ${JSON.stringify(error.errors)}`;
  if (error?.response?.errors) return `${error.message}`;
  return error?.message ?? String(error);
}

/** Prints the count of failures and exits 1 when there was any. */
export function finish(label) {
  console.log(`${label}: ${failures.length} failure(s)`);
  process.exit(failures.length ? 1 : 0);
}
