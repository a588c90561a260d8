// Promise.withResolvers arrived in Node 22; aws-local-stepfunctions 3 calls
// it for every Task state. Load this first on older Node:
//   NODE_OPTIONS="--import=$PWD/.tools/node/with-resolvers.mjs" .tools/node/node_modules/.bin/local-sfn ...
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
