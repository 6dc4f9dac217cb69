// The typed client GraphQL Code Generator made from the 2026-01-01 reference
// (generated/graphql.ts: TypedDocumentNodes, the CourseMembershipStatus enum), sent by
// graphql-request with `Healthie-GraphQL-API-Version: 2026-01-01`. tsc has checked every use
// below against the generated types; at run time each course_status must be a value of the
// generated enum (what a typed client that maps enums, e.g. Apollo Kotlin or iOS, requires).
import { GraphQLClient } from "graphql-request";
import {
  CourseMembershipStatus,
  MembershipDocument,
  MembershipsPageDocument,
  PauseDocument,
  ResumeDocument,
  type MembershipsPageQuery,
} from "./generated/graphql.js";

const base = process.env.GRAPHQL_BASE;
const key = process.env.API_KEY;
if (!base || !key) throw new Error("GRAPHQL_BASE and API_KEY are set by clients/run.sh");
const EXAMPLE_ENROLLMENT_ID = "619ad939-8591-40ad-9364-cf3825a9bf70";

const client = new GraphQLClient(`${base}/graphql`, {
  headers: {
    Authorization: `Basic ${key}`,
    AuthorizationSource: "API",
    "Healthie-GraphQL-API-Version": "2026-01-01",
  },
});

const enumValues: string[] = Object.values(CourseMembershipStatus);

/** What a typed client does with an enum it receives: refuse a value its schema lacks. */
function status(value: CourseMembershipStatus): CourseMembershipStatus {
  if (!enumValues.includes(value)) {
    throw new Error(`Value '${value}' does not exist in 'CourseMembershipStatus' enum`);
  }
  return value;
}

/** Exhaustive over the generated enum: tsc fails here if the reference's enum changes. */
function label(value: CourseMembershipStatus): string {
  switch (value) {
    case CourseMembershipStatus.NotStarted:
      return "not started";
    case CourseMembershipStatus.InProgress:
      return "in progress";
    case CourseMembershipStatus.Completed:
      return "completed";
    default: {
      const unknown: never = value;
      throw new Error(`unhandled ${unknown}`);
    }
  }
}

let failures = 0;
async function check(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    console.log(`  ok   ${name}`);
  } catch (error) {
    failures += 1;
    console.log(`  FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

type Node = NonNullable<
  NonNullable<NonNullable<MembershipsPageQuery["courseMemberships"]>["edges"]>[number]
>["node"];

await check("every page of courseMemberships; every course_status a CourseMembershipStatus", async () => {
  const nodes: NonNullable<Node>[] = [];
  let after: string | null | undefined = null;
  let total = 0;
  for (let page = 0; page < 50; page++) {
    const data: MembershipsPageQuery = await client.request(MembershipsPageDocument, { after, first: 50 });
    const connection = data.courseMemberships;
    if (!connection) throw new Error("courseMemberships is null");
    total = connection.total_count;
    for (const edge of connection.edges ?? []) if (edge?.node) nodes.push(edge.node);
    if (!connection.page_info.has_next_page) break;
    after = connection.page_info.end_cursor;
  }
  if (nodes.length !== total || total < 100) throw new Error(`${nodes.length} of ${total} memberships`);
  const counts = new Map<string, number>();
  for (const node of nodes) {
    const name = label(status(node.course_status));
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  if (counts.size < 2) throw new Error(`only ${[...counts.keys()]} among the demo's statuses`);
  console.log(`       ${[...counts].map(([name, count]) => `${count} ${name}`).join(", ")}`);
});

await check("courseMembership: the example learner is IN_PROGRESS", async () => {
  const { courseMembership } = await client.request(MembershipDocument, {
    course_membership_id: EXAMPLE_ENROLLMENT_ID,
  });
  if (!courseMembership) throw new Error("not found");
  if (status(courseMembership.course_status) !== CourseMembershipStatus.InProgress) {
    throw new Error(`course_status ${courseMembership.course_status}`);
  }
});

await check("pause and resume: typed payloads, the enum in the membership", async () => {
  const input = { input: { id: EXAMPLE_ENROLLMENT_ID } };
  const paused = await client.request(PauseDocument, input);
  const pausedMembership = paused.pauseCourseMembership?.courseMembership;
  if (!pausedMembership?.is_paused) {
    throw new Error(`not paused: ${JSON.stringify(paused.pauseCourseMembership?.messages)}`);
  }
  status(pausedMembership.course_status);
  const resumed = await client.request(ResumeDocument, input);
  const resumedMembership = resumed.resumeCourseMembership?.courseMembership;
  if (!resumedMembership || resumedMembership.is_paused) throw new Error("not resumed");
  status(resumedMembership.course_status);
});

console.log(`codegen-2026-01-01: ${failures} failure(s)`);
process.exit(failures ? 1 : 0);
