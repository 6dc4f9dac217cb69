// The GraphQL-over-HTTP audit of npm's graphql-http (`serverAudits`: the spec's MUST and SHOULD
// items), run against Healthie's path with each version header a client may send: none,
// 2025-01-01 and 2026-01-01 (the key in Healthie's style on every request). Prints ok / notice /
// warn / error counts per header and every notice, warn and error with its reason (a notice is
// a MAY the server does not do); 0 warn and 0 error is the target, anything else fails.
import { serverAudits } from "graphql-http";
import { HEALTHIE_URL, VERSION_HEADER, check, finish, healthieHeaders } from "./lib.mjs";

function fetchWith(version) {
  return (input, init = {}) => {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(healthieHeaders(version))) headers.set(name, value);
    return fetch(input, { ...init, headers });
  };
}

const counts = {};
for (const version of [undefined, "2025-01-01", "2026-01-01"]) {
  const label = version ? `${VERSION_HEADER}: ${version}` : "no version header";
  console.log(`graphql-http serverAudits, ${label}`);
  await check(`[${label}] 0 warn, 0 error`, async () => {
    const tally = { ok: 0, notice: 0, warn: 0, error: 0 };
    const problems = [];
    for (const audit of serverAudits({ url: HEALTHIE_URL, fetchFn: fetchWith(version) })) {
      const result = await audit.fn();
      tally[result.status] += 1;
      if (result.status !== "ok") {
        let body = "";
        try {
          body = result.response ? (await result.response.text()).slice(0, 200) : "";
        } catch {}
        problems.push(`    ${result.status} ${audit.id} ${audit.name}: ${result.reason} ${body}`);
      }
    }
    counts[label] = tally;
    console.log(`       ${tally.ok} ok, ${tally.notice} notice, ${tally.warn} warn, ${tally.error} error`);
    for (const problem of problems) console.log(problem);
    if (tally.warn || tally.error) throw new Error(`${tally.warn} warn, ${tally.error} error`);
  });
}
console.log(`audit counts: ${JSON.stringify(counts)}`);
finish("graphql-http-audit");
