// npm's graphql-request with each version header (none, 2025-01-01, 2026-01-01): Healthie's
// courseMembership and a page of courseMemberships, course_status spelled as the version says
// ("in_progress" by default and at 2025-01-01, the enum value IN_PROGRESS at 2026-01-01), the
// version's warnings in `extensions` printed; an unknown version (2025-06-15) refused with
// Healthie's UNSUPPORTED_API_VERSION; Teachify's extendStudentCourseAccess (no versions) to
// /graphql/ with X-Teachify-API-Key.
import { ClientError, GraphQLClient, gql } from "graphql-request";
import {
  EXAMPLE_COURSE_ID,
  EXAMPLE_ENROLLMENT_ID,
  EXAMPLE_USER_ID,
  HEALTHIE_URL,
  TEACHIFY_URL,
  assert,
  check,
  finish,
  healthieHeaders,
  same,
  teachifyHeaders,
} from "./lib.mjs";

const ONE = gql`
  query courseMembership($course_membership_id: ID) {
    courseMembership(course_membership_id: $course_membership_id) {
      id
      course_status
      next_incomplete_item {
        name
      }
    }
  }
`;
const PAGE = gql`
  query courseMemberships($first: Int) {
    courseMemberships(first: $first) {
      total_count
      edges {
        cursor
        node {
          id
          course_status
        }
      }
    }
  }
`;
const EXTEND = gql`
  mutation extend($userId: String!, $courseId: String!, $extensionDays: Int) {
    extendStudentCourseAccess(userId: $userId, courseId: $courseId, extensionDays: $extensionDays) {
      enrollment {
        id
        endedAt
      }
      errors {
        field
        message
      }
    }
  }
`;

const SPELLINGS = {
  none: ["not_started", "in_progress", "completed"],
  "2026-01-01": ["NOT_STARTED", "IN_PROGRESS", "COMPLETED"],
};

for (const version of [undefined, "2025-01-01", "2026-01-01"]) {
  const label = version ?? "no header";
  const client = new GraphQLClient(HEALTHIE_URL, { headers: healthieHeaders(version) });
  const spelled = SPELLINGS[version === "2026-01-01" ? version : "none"];
  await check(`[${label}] courseMembership and a page, course_status as ${spelled[1]}`, async () => {
    const one = await client.rawRequest(ONE, { course_membership_id: EXAMPLE_ENROLLMENT_ID });
    same(one.data.courseMembership.id, EXAMPLE_ENROLLMENT_ID, "id");
    same(one.data.courseMembership.course_status, spelled[1], "course_status");
    const warnings = one.extensions?.warnings ?? [];
    for (const warning of warnings) console.log(`       [${label}] warning: ${warning.code}: ${warning.message}`);
    const page = await client.rawRequest(PAGE, { first: 40 });
    const statuses = new Set(page.data.courseMemberships.edges.map((edge) => edge.node.course_status));
    for (const status of statuses) assert(spelled.includes(status), `course_status ${status}`);
  });
}

await check("[2025-06-15] an unknown version is refused with UNSUPPORTED_API_VERSION", async () => {
  const client = new GraphQLClient(HEALTHIE_URL, { headers: healthieHeaders("2025-06-15") });
  try {
    const answer = await client.rawRequest(ONE, { course_membership_id: EXAMPLE_ENROLLMENT_ID });
    throw new Error(`answered: ${JSON.stringify(answer.data)}`);
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    const codes = (error.response.errors ?? []).map((e) => e.extensions?.code);
    same(codes, ["UNSUPPORTED_API_VERSION"], "error codes");
    console.log(`       ${error.response.status}: ${error.response.errors[0].message}`);
  }
});

await check("[teachify] extendStudentCourseAccess by 7 days", async () => {
  const client = new GraphQLClient(TEACHIFY_URL, { headers: teachifyHeaders() });
  const variables = { userId: EXAMPLE_USER_ID, courseId: EXAMPLE_COURSE_ID, extensionDays: 7 };
  const { extendStudentCourseAccess: payload } = await client.request(EXTEND, variables);
  same(payload.errors, [], "errors");
  same(payload.enrollment.id, EXAMPLE_ENROLLMENT_ID, "enrollment");
  assert(payload.enrollment.endedAt > Date.now() / 1000, `endedAt ${payload.enrollment.endedAt}`);
});

finish("graphql-request");
