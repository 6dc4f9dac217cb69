// Apollo Client 4 (@apollo/client) over POST with its normalised cache: Healthie's
// courseMemberships paged with `relayStylePagination` and `fetchMore` to the last page; the
// cache then holds every page merged in order, each membership normalised once
// (CourseMembership:<id>), one HTTP request per page; the pages' answers come gzipped (Node's
// fetch asks for it) and are read as such.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";
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

const PAGE = gql`
  query courseMemberships($after: String, $first: Int) {
    courseMemberships(after: $after, first: $first) {
      total_count
      page_info {
        has_next_page
        end_cursor
      }
      edges {
        cursor
        node {
          id
          course_status
          is_paused
          course {
            id
            name
          }
          user {
            id
            full_name
          }
        }
      }
    }
  }
`;
const PAGE_SIZE = 25;

const fetch = recordingFetch();
const client = new ApolloClient({
  link: new HttpLink({ uri: HEALTHIE_URL, headers: healthieHeaders(), fetch }),
  cache: new InMemoryCache({
    typePolicies: {
      Query: { fields: { courseMemberships: relayStylePagination(["client_id", "fetch_all"]) } },
    },
  }),
});

console.log("Apollo Client 4: relayStylePagination over POST");
const query = client.watchQuery({ query: PAGE, variables: { first: PAGE_SIZE } });
const pagesSeen = [];

await check("the first page, over POST", async () => {
  const first = await new Promise((resolve, reject) => {
    const subscription = query.subscribe({
      next: (result) => {
        if (result.dataState === "complete" || result.error) {
          subscription.unsubscribe?.();
          return result.error ? reject(result.error) : resolve(result);
        }
      },
      error: reject,
    });
  });
  const connection = first.data.courseMemberships;
  assert(connection.edges.length === PAGE_SIZE, `first page: ${connection.edges.length} edges`);
  pagesSeen.push(connection.edges.map((edge) => edge.node.id));
  same(fetch.exchanges.map((e) => e.method), ["POST"], "requests so far");
});

let total;
await check("fetchMore to the last page (after: page_info.end_cursor)", async () => {
  for (let page = 0; page < 50; page++) {
    const current = client.readQuery({ query: PAGE, variables: { first: PAGE_SIZE } });
    const connection = current.courseMemberships;
    total = connection.total_count;
    if (!connection.page_info.has_next_page) return;
    const more = await query.fetchMore({ variables: { after: connection.page_info.end_cursor } });
    if (more.error) throw more.error;
    pagesSeen.push(more.data.courseMemberships.edges.map((edge) => edge.node.id));
  }
  throw new Error("more than 50 pages");
});

await check("the cache holds every page merged, in order, each membership once", () => {
  const merged = client.readQuery({ query: PAGE, variables: { first: PAGE_SIZE } });
  const ids = merged.courseMemberships.edges.map((edge) => edge.node.id);
  assert(total > 100, `total_count ${total}`);
  assert(ids.length === total, `${ids.length} edges merged, total_count ${total}`);
  assert(new Set(ids).size === total, "a membership came twice");
  same(ids, pagesSeen.flat(), "merged edges against the pages' edges");
  assert(pagesSeen.length === Math.ceil(total / PAGE_SIZE), `${pagesSeen.length} pages`);
  assert(merged.courseMemberships.page_info.has_next_page === false, "last page_info kept");
  assert(ids.includes(EXAMPLE_ENROLLMENT_ID), "the example membership is listed");
  const watched = query.getCurrentResult().data.courseMemberships.edges.length;
  assert(watched === total, `the watched query shows ${watched} edges`);
});

await check("normalised: one CourseMembership:<id> per membership, one request per page", () => {
  const store = client.cache.extract();
  const memberships = Object.keys(store).filter((key) => key.startsWith("CourseMembership:"));
  assert(memberships.length === total, `${memberships.length} normalised memberships`);
  const courses = Object.keys(store).filter((key) => key.startsWith("Course:"));
  assert(courses.length >= 1 && courses.length <= 10, `${courses.length} courses normalised`);
  assert(fetch.exchanges.every((e) => e.method === "POST" && e.status === 200), "POST, 200");
  same(fetch.exchanges.length, pagesSeen.length, "HTTP requests");
  same(
    fetch.exchanges.map((e) => e.body.variables.after ?? null).slice(1).length,
    pagesSeen.length - 1,
    "every request after the first sent `after`",
  );
});

await check("each page over 1 KB came gzipped (fetch sends Accept-Encoding) and was read", () => {
  const large = fetch.exchanges.filter((e) => e.size >= 1024);
  assert(large.length > 0, "no answer of 1 KB or more");
  same(large.map((e) => e.contentEncoding), large.map(() => "gzip"), "Content-Encoding");
});

finish("apollo-relay-pagination");
