#!/usr/bin/env python3
"""Builds the splunkd -> oktasession streams bench/oktasession.sh replays (Search Command
Protocol v2 chunks, the form ../shared/bench/scp_driver.py --replay reads).

  fields N OUT [asc|desc]   N of scp_driver.py's synthetic Okta events (seed 42) as Splunk's
                            extracted fields only, no _raw: what splunkd sends a command whose
                            required_fields it honours. Unlike the driver's own rows they carry
                            actor.type and target{}.id/target{}.type, as every Okta event has
                            them and Splunk's JSON extraction produces them.
  reduce MAP_OUTPUT OUT     the replies a phase=map run wrote (scp_driver.py --record-dir ...
                            .output) as the input of the search-head phase: one execute chunk
                            per reply body, finished on the last, as splunkd forwards the
                            indexers' results.
Plain Python 3; OUT ending in .gz is gzip-compressed.
"""
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench"))
import scp_driver as d  # noqa: E402

FIELDS = ["_time", "eventType", "actor.id", "actor.type", "actor.alternateId", "client.ipAddress", "outcome.result",
          "authenticationContext.externalSessionId", "target{}.id", "target{}.type"]
CHUNK = 50000


def getinfo():
    a = type("A", (), {"arg": [], "command_name": "oktasession", "app": "oktasight", "splunk_version": "9.2.1",
                       "maxresultrows": CHUNK, "preview": False})()
    return d.encode_chunk(d.getinfo_meta(a, "/tmp", "1.1"))


def out(path):
    return gzip.open(path, "wb", compresslevel=1) if path.endswith(".gz") else open(path, "wb")


def fields(n, path, order):
    synth = d.OktaSynth(n, seed=42, order=order)
    with out(path) as f:
        f.write(getinfo())
        for s in range(0, n, CHUNK):
            rows = []
            for i in range(s, min(n, s + CHUNK)):
                r = synth.row(i, with_meta=False)
                raw = json.loads(r.pop("_raw"))
                r["actor.type"] = raw["actor"]["type"]
                tg = raw["target"] or []
                r["target{}.id"] = [t["id"] for t in tg]
                r["target{}.type"] = [t["type"] for t in tg]
                rows.append(r)
            f.write(d.encode_chunk({"action": "execute", "finished": s + CHUNK >= n}, d.encode_csv(FIELDS, rows)))


def chunks(b):
    i = 0
    while i < len(b):
        nl = b.index(b"\n", i)
        _, lens = b[i:nl].split(b",", 1)
        m, n = (int(x) for x in lens.split(b","))
        meta = json.loads(b[nl + 1:nl + 1 + m])
        yield meta, b[nl + 1 + m:nl + 1 + m + n]
        i = nl + 1 + m + n


def reduce(map_output, path):
    with open(map_output, "rb") as f:
        replies = list(chunks(f.read()))[1:]  # the first reply answers getinfo
    with out(path) as f:
        f.write(getinfo())
        for k, (_, body) in enumerate(replies):
            f.write(d.encode_chunk({"action": "execute", "finished": k == len(replies) - 1}, body))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "fields":
        fields(int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "desc")
    elif len(sys.argv) == 4 and sys.argv[1] == "reduce":
        reduce(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
