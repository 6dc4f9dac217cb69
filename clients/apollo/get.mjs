// Apollo Client 4 with `useGETForQueries`: a query goes as GET (query and variables in the URL;
// Apollo also sends `Content-Type: application/json`, which the server must accept on a GET),
// answered 200 with data; a mutation through the same link still goes as POST.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
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

const ONE = gql`
  query courseMembership($course_membership_id: ID) {
    courseMembership(course_membership_id: $course_membership_id) {
      id
      course_status
      user {
        id
        full_name
      }
    }
  }
`;
const PAUSE = gql`
  mutation pauseCourseMembership($input: PauseCourseMembershipInput!) {
    pauseCourseMembership(input: $input) {
      courseMembership {
        id
        is_paused
      }
      messages {
        field
        message
      }
    }
  }
`;
const RESUME = gql`
  mutation resumeCourseMembership($input: ResumeCourseMembershipInput!) {
    resumeCourseMembership(input: $input) {
      courseMembership {
        id
        is_paused
      }
      messages {
        field
        message
      }
    }
  }
`;

const fetch = recordingFetch();
const client = new ApolloClient({
  link: new HttpLink({ uri: HEALTHIE_URL, headers: healthieHeaders(), fetch, useGETForQueries: true }),
  cache: new InMemoryCache(),
});

console.log("Apollo Client 4: useGETForQueries");
await check("a query with variables over GET, answered 200 with data", async () => {
  const result = await client.query({
    query: ONE,
    variables: { course_membership_id: EXAMPLE_ENROLLMENT_ID },
    fetchPolicy: "network-only",
  });
  const [exchange] = fetch.exchanges;
  same(exchange.method, "GET", "method");
  assert(exchange.url.searchParams.get("query")?.includes("courseMembership"), "query in the URL");
  same(
    JSON.parse(exchange.url.searchParams.get("variables")),
    { course_membership_id: EXAMPLE_ENROLLMENT_ID },
    "variables in the URL",
  );
  same(exchange.headers["content-type"], "application/json", "Apollo's GET content type");
  same(exchange.status, 200, `status (answer ${JSON.stringify(exchange.answer)})`);
  assert(/json/.test(exchange.contentType ?? ""), `answered as ${exchange.contentType}`);
  same(result.data.courseMembership.id, EXAMPLE_ENROLLMENT_ID, "the membership");
  same(result.data.courseMembership.user.full_name, "Example Student", "its learner");
});

await check("mutations through the same link go as POST (pause, then resume)", async () => {
  const before = fetch.exchanges.length;
  const input = { input: { id: EXAMPLE_ENROLLMENT_ID } };
  const paused = await client.mutate({ mutation: PAUSE, variables: input });
  same(paused.data.pauseCourseMembership.messages, [], "pause messages");
  const resumed = await client.mutate({ mutation: RESUME, variables: input });
  same(resumed.data.resumeCourseMembership.courseMembership.is_paused, false, "resumed");
  same(fetch.exchanges.slice(before).map((e) => [e.method, e.status]), [["POST", 200], ["POST", 200]], "requests");
});

finish("apollo-get");
