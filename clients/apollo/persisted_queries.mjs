// Apollo Client 4 with Automatic Persisted Queries (@apollo/client/link/persisted-queries,
// sha256 from node:crypto), by Apollo's protocol, once over POST and once with
// `useGETForHashedQueries`:
//   1. the first request carries only extensions.persistedQuery {version: 1, sha256Hash}, no
//      query; the server answers PersistedQueryNotFound;
//   2. Apollo falls back: the full query with the same hash (Apollo sends it as POST); data;
//   3. the same query again (a new request, network-only): hash-only again, answered with data
//      (the server registered it; with two gunicorn workers, in a store they share).
// Each run's document holds an alias of its own (run_<random>), so that its hash is new to the
// server whatever ran before.
import { createHash, randomBytes } from "node:crypto";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import {
  EXAMPLE_ENROLLMENT_ID,
  HEALTHIE_URL,
  assert,
  check,
  finish,
  healthieHeaders,
  recordingFetch,
  same,
} from "../lib.mjs";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function documentOfThisRun(alias) {
  return gql`
    query apqMembership($course_membership_id: ID) {
      courseMembership(course_membership_id: $course_membership_id) {
        id
        course_status
        user {
          id
          full_name
        }
      }
      ${alias}: __typename
    }
  `;
}

function persistedHashOf(exchange) {
  if (exchange.method === "GET") {
    const extensions = exchange.url.searchParams.get("extensions");
    return {
      query: exchange.url.searchParams.get("query"),
      persisted: extensions ? JSON.parse(extensions).persistedQuery : undefined,
    };
  }
  return { query: exchange.body?.query, persisted: exchange.body?.extensions?.persistedQuery };
}

async function apq(label, useGETForHashedQueries) {
  const fetch = recordingFetch();
  const client = new ApolloClient({
    link: ApolloLink.from([
      new PersistedQueryLink({ sha256, useGETForHashedQueries }),
      new HttpLink({ uri: HEALTHIE_URL, headers: healthieHeaders(), fetch }),
    ]),
    cache: new InMemoryCache(),
  });
  const alias = `run_${randomBytes(8).toString("hex")}`;
  const query = documentOfThisRun(alias);
  // Apollo hashes the document it sends (its cache adds __typename): the fallback's query text.
  let hash;
  const variables = { course_membership_id: EXAMPLE_ENROLLMENT_ID };
  const hashOnly = label === "GET" ? "GET" : "POST";

  let first;
  await check(`[${label}] hash-only, PersistedQueryNotFound, then the full query: data`, async () => {
    first = await client.query({ query, variables, fetchPolicy: "network-only" });
    const [unknown, fallback] = fetch.exchanges;
    assert(unknown, "no request was sent");
    assert(fallback, `Apollo sent no fallback (it retries only on PersistedQueryNotFound); first answer (${unknown.status}): ${JSON.stringify(unknown.answer)}`);
    hash = sha256(fallback.body.query);
    const sent = persistedHashOf(unknown);
    same(unknown.method, hashOnly, "first request's method");
    assert(!sent.query, `the first request carried the query: ${sent.query}`);
    same(sent.persisted, { version: 1, sha256Hash: hash }, "first request's persistedQuery");
    const errors = unknown.answer?.errors ?? [];
    assert(
      errors.some((e) => e.message === "PersistedQueryNotFound" || e.extensions?.code === "PERSISTED_QUERY_NOT_FOUND"),
      `first answer (${unknown.status}): ${JSON.stringify(unknown.answer)}`,
    );
    same(fallback.method, "POST", "fallback method");
    same(fallback.body.extensions?.persistedQuery, { version: 1, sha256Hash: hash }, "fallback's hash");
    assert(fallback.body.query.includes(`${alias}: __typename`), "the fallback's query is this run's");
    same(fallback.status, 200, `fallback status (${JSON.stringify(fallback.answer)})`);
    same(first.data.courseMembership.id, EXAMPLE_ENROLLMENT_ID, "data");
    same(fetch.exchanges.length, 2, "requests");
  });

  await check(`[${label}] the same query again: hash-only, answered with data`, async () => {
    const again = await client.query({ query, variables, fetchPolicy: "network-only" });
    const last = fetch.exchanges.at(-1);
    same(fetch.exchanges.length, 3, "requests in all");
    const sent = persistedHashOf(last);
    same(last.method, hashOnly, "method");
    assert(!sent.query, "the query was sent again");
    same(sent.persisted, { version: 1, sha256Hash: hash }, "persistedQuery");
    same(last.status, 200, `status (${JSON.stringify(last.answer)})`);
    assert(!last.answer.errors, `errors: ${JSON.stringify(last.answer.errors)}`);
    same(again.data, first?.data, "the hash-only answer against the full query's");
  });
}

console.log("Apollo Client 4: automatic persisted queries");
await apq("POST", false);
await apq("GET", true);
finish("apollo-apq");
