// A Bluesky PDS (@atproto/pds) and its PLC directory (@did-plc/server, in memory) in one
// Node process, for the publishing tests (started by tests/api/bluesky.rs, one per test
// run). Usage: node server.mjs PDS_PORT PLC_PORT DATA_DIR
// Prints "ready <pds url>" once /xrpc/_health answers; stops on SIGTERM.
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PDS, envToCfg, envToSecrets, readEnv } from "@atproto/pds";
import * as plc from "@did-plc/server";

const [pdsPort, plcPort, dataDir] = process.argv.slice(2);
mkdirSync(join(dataDir, "blobs"), { recursive: true });

const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: Number(plcPort) });
await plcServer.start();

Object.assign(process.env, {
  PDS_HOSTNAME: "localhost",
  PDS_PORT: pdsPort,
  PDS_DEV_MODE: "true",
  PDS_DATA_DIRECTORY: dataDir,
  PDS_BLOBSTORE_DISK_LOCATION: join(dataDir, "blobs"),
  PDS_DID_PLC_URL: `http://localhost:${plcPort}`,
  PDS_SERVICE_HANDLE_DOMAINS: ".test",
  PDS_INVITE_REQUIRED: "false",
  PDS_JWT_SECRET: randomBytes(16).toString("hex"),
  PDS_ADMIN_PASSWORD: randomBytes(16).toString("hex"),
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: randomBytes(32).toString("hex"),
  LOG_ENABLED: "false",
});
const env = readEnv();
const pds = await PDS.create(envToCfg(env), envToSecrets(env));
await pds.start();

const url = `http://localhost:${pdsPort}`;
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch(`${url}/xrpc/_health`)).ok) break;
  } catch (_) { /* not yet */ }
  await new Promise((r) => setTimeout(r, 100));
}
console.log(`ready ${url}`);

const stop = async () => {
  await pds.destroy();
  await plcServer.destroy();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The tests hold this process's stdin: when they end, however they end, it closes.
process.stdin.on("end", stop);
process.stdin.resume();
