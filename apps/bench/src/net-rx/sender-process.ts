// The sender of the `net-rx` suite, in a process of its own so the receiver's CPU and GC figures
// are the receiver's alone: `node --import tsx sender-process.ts <bytes>` listens on 127.0.0.1,
// prints {"port": n} on a line, and sends the first <bytes> bytes of net-rx's ByteStream (seed 1)
// on every connection, in 64 KiB writes with back-pressure. It exits when its stdin closes.
import net from "node:net";
import { BYTE_STREAM_PERIOD, ByteStream } from "@mmkit/net-rx";
import { SENDER_SEED, SENDER_WRITE } from "./sender.js";

const bytes = Number(process.argv[2]);
if (!(Number.isInteger(bytes) && bytes > 0)) {
  console.error(`sender-process: bytes must be a positive integer, got ${process.argv[2]}`);
  process.exit(2);
}
// One period of the stream and a write's worth more: every write is a view into it, no copy.
const table = new Uint8Array(BYTE_STREAM_PERIOD + SENDER_WRITE);
new ByteStream(SENDER_SEED).fill(table);

const server = net.createServer((socket) => {
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes) {
      const n = Math.min(SENDER_WRITE, bytes - sent);
      const at = sent % BYTE_STREAM_PERIOD;
      sent += n;
      if (!socket.write(table.subarray(at, at + n))) {
        socket.once("drain", pump);
        return;
      }
    }
    socket.end();
  };
  socket.on("error", () => socket.destroy());
  pump();
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
