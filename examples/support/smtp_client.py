"""The plain Python SMTP client of outbox_bench: the kind of client the email issue measured
(smtplib, one thread and one connection each, TCP_NODELAY).

    python3 smtp_client.py PORT CONNECTIONS MESSAGES.jsonl

Each line of MESSAGES.jsonl is {"from": ..., "to": [...], "raw": ...} (the message as the
server received it). Prints the seconds from the first connection to the last message
accepted, after reading the file.
"""

import json
import smtplib
import socket
import sys
import threading
import time


def main():
    port, connections, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(path, encoding="utf-8") as f:
        messages = [json.loads(line) for line in f]
    work = [messages[i::connections] for i in range(connections)]
    errors = []

    def send(batch):
        try:
            smtp = smtplib.SMTP("127.0.0.1", port)
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo("localhost")
            for m in batch:
                smtp.sendmail(m["from"], m["to"], m["raw"].encode("utf-8"))
            smtp.quit()
        except Exception as e:  # reported below: the benchmark fails
            errors.append(repr(e))

    threads = [threading.Thread(target=send, args=(batch,)) for batch in work]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)
    print(f"{elapsed:.6f}")


if __name__ == "__main__":
    main()
