#!/usr/bin/python3
"""Print docs/interop.md's result tables from the output of `go test -v ./interop/`.

    SWARM_INTEROP=1 go test -race -v ./interop/ | tee /tmp/interop.log
    python3 interop/table.py /tmp/interop.log
"""

import re
import sys

KINDS = ["swarm", "libtorrent", "transmission", "aria2"]
TRACKERS = [("swarmtracker", "swarm tracker"), ("opentracker", "opentracker")]
LINE = re.compile(r"\s*--- (PASS|FAIL|SKIP): (Test\w+)/(\S+) \(([\d.]+)s\)")


def parse(path):
    res = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        m = LINE.match(line)
        if m:
            res[(m.group(2), m.group(3))] = (m.group(1).lower(), float(m.group(4)))
    return res


def cell(res, tracker, seeder, leecher):
    out = []
    for test in ("TestMatrix", "TestReferencePairs"):
        for payload in ("single", "multi"):
            r = res.get((test, "%s/%s-to-%s/%s" % (tracker, seeder, leecher, payload)))
            if r is None:
                continue
            if r[0] == "skip":
                out.append("cannot meet")
            elif r[0] == "fail":
                out.append("**%s fail**" % payload)
            else:
                out.append("%s pass %.0fs" % (payload, r[1]))
    return ", ".join(out) or "not run"


def main():
    res = parse(sys.argv[1])
    for tracker, title in TRACKERS:
        print("\n**Tracker: %s** (rows: seeder, columns: leecher)\n" % title)
        print("| seeder \\ leecher | " + " | ".join(KINDS) + " |")
        print("| --- " * (len(KINDS) + 1) + "|")
        for s in KINDS:
            print("| %s | %s |" % (s, " | ".join(cell(res, tracker, s, l) for l in KINDS)))
    for test in ("TestSwarmCreatedTorrentsLoad", "TestClientCreatedTorrentsInSwarm"):
        rows = sorted((k[1], v[0]) for k, v in res.items() if k[0] == test)
        print("\n`%s`: %s" % (test, ", ".join("%s %s" % r for r in rows) or "not run"))
    for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
        m = re.match(r"--- (PASS|FAIL|SKIP): (TestMixedSwarm|TestSwarmReseeds) \(([\d.]+)s\)", line)
        if m:
            print("\n`%s`: %s %.0fs" % (m.group(2), m.group(1).lower(), float(m.group(3))))


if __name__ == "__main__":
    main()
