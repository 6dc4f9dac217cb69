// Apollo Client 4 against a server with trusted documents on (GRAPHQL_TRUSTED_DOCUMENTS=true,
// GRAPHQL_PERSISTED_QUERY_MANIFEST: the manifest Apollo's generate-persisted-query-manifest
// wrote), as Apollo's persisted-queries guidance sets a production app up: the
// PersistedQueryLink with @apollo/persisted-query-lists' generatePersistedQueryIdsFromManifest
// sends each operation's manifest id only, never its text.
//   - a query and two mutations of the manifest, by id alone: data;
//   - the manifest's query sent as text (a plain HttpLink): accepted (by hash or by text);
//   - a document outside the manifest, sent as text: refused DOCUMENT_NOT_TRUSTED, no data;
//   - Apollo's automatic persisted queries (a hash the list lacks, then its text): refused,
//     PERSISTED_QUERY_NOT_IN_LIST then DOCUMENT_NOT_TRUSTED (nothing is registered).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
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

const manifest = JSON.parse(readFileSync(process.env.MANIFEST, "utf8"));
const idOf = Object.fromEntries(manifest.operations.map((op) => [op.name, op.id]));
const source = (name) => gql(readFileSync(new URL(`documents/${name}.graphql`, import.meta.url), "utf8"));
const MEMBERSHIP = source("membership");
const PAUSE = source("pause");
const RESUME = source("resume");
const variables = { course_membership_id: EXAMPLE_ENROLLMENT_ID };

function client(links, fetch) {
  return new ApolloClient({
    link: ApolloLink.from([...links, new HttpLink({ uri: HEALTHIE_URL, headers: healthieHeaders(), fetch })]),
    cache: new InMemoryCache(),
  });
}

console.log("Apollo Client 4: trusted documents (Apollo's manifest and persisted-query-lists)");
const trustedFetch = recordingFetch();
const trusted = client(
  [new PersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }))],
  trustedFetch,
);

await check("the manifest's query by its id alone: data", async () => {
  const result = await trusted.query({ query: MEMBERSHIP, variables, fetchPolicy: "network-only" });
  same(result.data.courseMembership.id, EXAMPLE_ENROLLMENT_ID, "data");
  same(trustedFetch.exchanges.length, 1, "requests");
  const [exchange] = trustedFetch.exchanges;
  assert(!exchange.body.query, "the text was sent");
  same(exchange.body.extensions.persistedQuery, { version: 1, sha256Hash: idOf.TrustedMembership }, "id");
});

await check("the manifest's two mutations by id alone: pause, then resume", async () => {
  const input = { input: { id: EXAMPLE_ENROLLMENT_ID } };
  const paused = await trusted.mutate({ mutation: PAUSE, variables: input });
  same(paused.data.pauseCourseMembership.courseMembership.is_paused, true, "paused");
  const resumed = await trusted.mutate({ mutation: RESUME, variables: input });
  same(resumed.data.resumeCourseMembership.courseMembership.is_paused, false, "resumed");
  const sent = trustedFetch.exchanges.slice(1).map((e) => [Boolean(e.body.query), e.body.extensions.persistedQuery.sha256Hash]);
  same(sent, [[false, idOf.TrustedPause], [false, idOf.TrustedResume]], "ids sent");
});

await check("the manifest's query sent as text: accepted", async () => {
  const result = await client([], recordingFetch()).query({ query: MEMBERSHIP, variables });
  same(result.data.courseMembership.id, EXAMPLE_ENROLLMENT_ID, "data");
});

const OUTSIDE = gql`
  query NotInTheManifest {
    courseMemberships(first: 1) {
      total_count
    }
  }
`;

await check("a document outside the manifest, as text: DOCUMENT_NOT_TRUSTED", async () => {
  const fetch = recordingFetch();
  try {
    const result = await client([], fetch).query({ query: OUTSIDE });
    throw new Error(`answered: ${JSON.stringify(result.data)}`);
  } catch (error) {
    const answer = fetch.exchanges.at(-1)?.answer;
    const codes = (answer?.errors ?? []).map((e) => e.extensions?.code);
    same(codes, ["DOCUMENT_NOT_TRUSTED"], `codes (answer ${JSON.stringify(answer)})`);
    assert(!answer.data, "data in the refusal");
  }
});

await check("APQ of a document outside the list: NOT_IN_LIST, then the text refused", async () => {
  const fetch = recordingFetch();
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  try {
    const result = await client([new PersistedQueryLink({ sha256 })], fetch).query({ query: OUTSIDE });
    throw new Error(`answered: ${JSON.stringify(result.data)}`);
  } catch (error) {
    const codes = fetch.exchanges.map((e) => (e.answer?.errors ?? []).map((x) => x.extensions?.code));
    assert(codes.length >= 1, "no request");
    same(codes[0], ["PERSISTED_QUERY_NOT_IN_LIST"], `first answer ${JSON.stringify(fetch.exchanges[0].answer)}`);
    for (const later of codes.slice(1)) same(later, ["DOCUMENT_NOT_TRUSTED"], "the text sent after");
  }
});

finish("apollo-trusted-documents");
