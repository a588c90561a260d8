// driver.cjs runs a Step Functions definition in aws-local-stepfunctions,
// with every Task state routed to an HTTP endpoint by its state name:
// POST <endpoint>/<state name> with the state's effective input. A 200
// answer is the task's result; any other answer fails the state with the
// errorType and errorMessage of its JSON body, so Retry and Catch apply.
//
//   NODE_PATH=.tools/node/node_modules node driver.cjs DEFINITION ENDPOINT EXECUTION_NAME INPUT_JSON [NO_RETRY_WAIT]
//
// With NO_RETRY_WAIT set to "1", retries happen at once instead of after
// their IntervalSeconds.
// It prints one JSON line: {"status":"SUCCEEDED","output":...} or
// {"status":"FAILED","error":...,"cause":...}.

// aws-local-stepfunctions 3.0.0 calls Promise.withResolvers, which Node 20
// lacks.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const fs = require("fs");
const { StateMachine } = require("aws-local-stepfunctions");

// taskStates lists the names of the Task states in states, in branches
// and in Map processors too.
function taskStates(states, out) {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === "Task") out.push(name);
    for (const branch of state.Branches || []) taskStates(branch.States, out);
    const processor = state.ItemProcessor || state.Iterator;
    if (processor) taskStates(processor.States, out);
  }
  return out;
}

async function main() {
  const [defPath, endpoint, executionName, inputJSON, noRetryWait] = process.argv.slice(2);
  const definition = JSON.parse(fs.readFileSync(defPath, "utf8"));
  const input = JSON.parse(inputJSON);
  const handlers = {};
  const retryWaits = {};
  for (const name of taskStates(definition.States, [])) {
    if (noRetryWait === "1") retryWaits[name] = 0;
    handlers[name] = async (taskInput) => {
      const res = await fetch(endpoint + "/" + encodeURIComponent(name), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(taskInput),
      });
      const body = await res.json();
      if (res.status !== 200) {
        const err = new Error(body.errorMessage || "task failed");
        err.name = body.errorType || "Error";
        throw err;
      }
      return body;
    };
  }
  const machine = new StateMachine(definition);
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides: retryWaits },
    context: {
      Execution: {
        Id: "arn:aws:states:us-east-1:123456789012:execution:local:" + executionName,
        Name: executionName,
        Input: input,
        StartTime: new Date(0).toISOString(),
      },
    },
  });
  let result;
  try {
    const output = await execution.result;
    result = { status: "SUCCEEDED", output };
  } catch (err) {
    const cause = err.cause || err;
    result = { status: "FAILED", error: cause.name, cause: cause.message };
  }
  // Exit once the line is written: fetch keeps its connections open for
  // a while, which would keep the process alive for seconds.
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(2);
});
