#!/usr/bin/env python3
"""The crash harness's model: seeded changes, and the checks of the end.

  crash_model.py gen SEED ENTRIES ROUNDS OUT
      writes OUT/groups.ldif (the groups, and an OU people move to, loaded
      with the people) and, per
      round R (1..ROUNDS), OUT/round-R.ldif (ldapmodify input: modifies,
      deletes, renames, adds, group member changes) and OUT/round-R.mail
      (one `dirledger mail` argument list per line). Objects are disjoint
      within a round: no object is changed on both sides, or twice, so the
      state after the round does not depend on when each change is seen.
  crash_model.py slice FILE K N   the LDIF records K, K+N, K+2N... of FILE
  crash_model.py ldap FILE        normalized ldapsearch -LLL output
  crash_model.py mail FILE        normalized `mail list --json` output
  crash_model.py accesslog FILE   the writes slapd's accesslog recorded, as
                                  a sorted list without server-made values
  crash_model.py outcomes FILE    checks `dirledger log --json`: every intent
                                  has exactly one WriteOutcome, and no mail
                                  write appears twice; prints figures as
                                  key=value, exits 1 on a violation
Only the Python standard library is used.
"""
import collections
import json
import os
import random
import sys

DOMAIN = "example.com"
PEOPLE = "ou=people,dc=example,dc=com"
GROUPS = "ou=groups,dc=example,dc=com"
MOVED = "ou=moved,ou=people,dc=example,dc=com"
STABLE = 200    # user000001..user000200: group members, never changed
GROUP_COUNT = 20


def uid(i):
    return "user%06d" % i


def person_dn(name):
    return "uid=%s,%s" % (name, PEOPLE)


def gen(seed, entries, rounds, out):
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    groups = {}
    with open(os.path.join(out, "groups.ldif"), "w") as f:
        f.write("dn: %s\nobjectClass: organizationalUnit\nou: moved\n\n" %
                MOVED)
        for g in range(1, GROUP_COUNT + 1):
            name = "team%02d" % g
            members = sorted(rng.sample(range(1, STABLE + 1), 10))
            groups[name] = set(members)
            f.write("dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n"
                    "description: Team %d\n" % (name, GROUPS, name, g))
            for m in members:
                f.write("member: %s\n" % person_dn(uid(m)))
            f.write("\n")
    # People that may change: everything above the stable set.
    pool = list(range(STABLE + 1, entries + 1))
    rng.shuffle(pool)
    per = max(1, min(len(pool) // (rounds * 2), 60))
    titles = ["Engineer", "Directrice g\u00e9n\u00e9rale", "Lead", "Analyst",
              "Ops", "Head of \u00e9tudes"]
    for r in range(1, rounds + 1):
        take = lambda n: [pool.pop() for _ in range(min(n, len(pool)))]
        ldif = []
        mail = []
        # LDAP side.
        for i in take(per):
            ldif.append("dn: %s\nchangetype: modify\nreplace: title\n"
                        "title: %s r%d\n-\nreplace: telephoneNumber\n"
                        "telephoneNumber: +1 555 %07d\n" %
                        (person_dn(uid(i)), rng.choice(titles), r,
                         rng.randrange(10**7)))
        for i in take(per // 4):
            ldif.append("dn: %s\nchangetype: delete\n" % person_dn(uid(i)))
        # Renames that keep the name (uid): a new RDN, or a move to another
        # OU. (A new uid would rename the mail account, which the embedded
        # mail directory does not do: docs/rules.md, "Known limits".)
        for n, i in enumerate(take(per // 8)):
            if n % 2:
                ldif.append("dn: %s\nchangetype: modrdn\nnewrdn: cn=User %d\n"
                            "deleteoldrdn: 0\n" % (person_dn(uid(i)), i))
            else:
                ldif.append("dn: %s\nchangetype: modrdn\nnewrdn: uid=%s\n"
                            "deleteoldrdn: 1\nnewsuperior: %s\n" %
                            (person_dn(uid(i)), uid(i), MOVED))
        for k in range(per // 4):
            name = "ladd%d_%03d" % (r, k)
            ldif.append(
                "dn: %s\nchangetype: add\nobjectClass: inetOrgPerson\n"
                "uid: %s\ncn: New %d %d\nsn: Added%d\ngivenName: New\n"
                "title: Hire r%d\nmail: %s@%s\n" %
                (person_dn(name), name, r, k, k, r, name, DOMAIN))
        # Groups: half of them change on LDAP, the other half on mail.
        names = sorted(groups)
        rng.shuffle(names)
        for g in names[:2]:
            add = rng.choice(sorted(set(range(1, STABLE + 1)) - groups[g]))
            drop = rng.choice(sorted(groups[g]))
            groups[g] = (groups[g] | {add}) - {drop}
            ldif.append("dn: cn=%s,%s\nchangetype: modify\nadd: member\n"
                        "member: %s\n-\ndelete: member\nmember: %s\n" %
                        (g, GROUPS, person_dn(uid(add)),
                         person_dn(uid(drop))))
        for g in names[2:4]:
            add = rng.choice(sorted(set(range(1, STABLE + 1)) - groups[g]))
            groups[g].add(add)
            mail.append("set %s@%s members+=%s@%s" % (g, DOMAIN, uid(add),
                                                        DOMAIN))
        # Mail side.
        for i in take(per // 6):
            mail.append("set %s@%s title=Mail_r%d department=Dept%d" %
                        (uid(i), DOMAIN, r, rng.randrange(100)))
        for i in take(max(1, per // 20)):
            mail.append("remove %s@%s" % (uid(i), DOMAIN))
        for k in range(max(1, per // 20)):
            mail.append("add madd%d_%03d@%s firstName=Mail lastName=Added%d "
                        "title=Mailbox" % (r, k, DOMAIN, k))
        with open(os.path.join(out, "round-%d.ldif" % r), "w") as f:
            f.write("\n".join(ldif))
        with open(os.path.join(out, "round-%d.mail" % r), "w") as f:
            f.write("\n".join(mail) + "\n")


def ldif_entries(text):
    """Entries of ldapsearch -LLL -o ldif-wrap=no output, as line lists."""
    entries, cur = [], []
    for line in text.split("\n"):
        if line == "":
            if cur:
                entries.append(cur)
            cur = []
        else:
            cur.append(line)
    if cur:
        entries.append(cur)
    return entries


def ldif_slice(path, k, n):
    records = [r for r in open(path, encoding="utf-8").read().split("\n\n")
               if r.strip()]
    return "".join(r.strip("\n") + "\n\n"
                   for j, r in enumerate(records) if j % n == k)


def norm_ldap(path):
    out = []
    for e in ldif_entries(open(path, encoding="utf-8",
                               errors="surrogateescape").read()):
        dn = e[0]
        out.append("\n".join([dn.lower()] + sorted(e[1:])))
    return "\n\n".join(sorted(out)) + "\n"


def norm_mail(path):
    lines = []
    for line in open(path):
        if line.strip():
            lines.append(json.dumps(json.loads(line), sort_keys=True))
    return "\n".join(sorted(lines)) + "\n"


# Values the server makes itself, different on every server.
SERVER_MADE = ("entryuuid", "entrycsn", "createtimestamp", "modifytimestamp",
               "creatorsname", "modifiersname", "structuralobjectclass",
               "contextcsn")


def norm_accesslog(path):
    out = []
    for e in ldif_entries(open(path, encoding="utf-8",
                               errors="surrogateescape").read()):
        attrs = collections.defaultdict(list)
        for line in e[1:]:
            name, _, value = line.partition(":")
            attrs[name.lower()].append(value.strip())
        mods = sorted(m for m in attrs.get("reqmod", [])
                      if m.split(":", 1)[0].lower() not in SERVER_MADE)
        rec = [attrs.get("reqtype", ["?"])[0],
               attrs.get("reqdn", ["?"])[0].lower()]
        for k in ("reqnewrdn", "reqdeleteoldrdn", "reqnewsuperior"):
            if k in attrs:
                rec.append("%s=%s" % (k, attrs[k][0].lower()))
        out.append(" | ".join(rec + mods))
    return "\n".join(sorted(out)) + "\n"


def outcomes(path):
    intents = {}
    outcome_count = collections.Counter()
    mail_origins = collections.Counter()
    events = 0
    for line in open(path):
        if not line.strip():
            continue
        e = json.loads(line)
        events += 1
        for i in e.get("intents", []):
            intents[i["id"]] = (e["seq"], i.get("target"), i.get("op"),
                                i.get("target_id"))
        if e.get("kind") == "outcome":
            outcome_count[e["intent"]] += 1
        if (e.get("kind") == "change" and e.get("side") == "mail" and
                e.get("origin_intent")):
            mail_origins[e["origin_intent"]] += 1
    bad = 0
    for iid, n in sorted(outcome_count.items()):
        if n > 1:
            bad += 1
            print("DUPLICATE: intent %s has %d WriteOutcomes" % (iid, n))
        if iid not in intents:
            bad += 1
            print("UNKNOWN: an outcome names intent %s, decided nowhere" % iid)
    lost = [iid for iid in intents if iid not in outcome_count]
    for iid in lost[:20]:
        print("LOST: intent %s (seq %s, %s %s %s) has no outcome" %
              ((iid,) + intents[iid]))
    dup_mail = {k: n for k, n in mail_origins.items() if n > 1}
    for k, n in sorted(dup_mail.items())[:20]:
        print("DUPLICATE: the mail side changed %d times for intent %s" %
              (n, k))
    print("events=%d intents=%d outcomes=%d duplicate_outcomes=%d "
          "lost_intents=%d mail_writes=%d duplicate_mail_writes=%d" %
          (events, len(intents), sum(outcome_count.values()),
           sum(1 for n in outcome_count.values() if n > 1), len(lost),
           sum(mail_origins.values()), len(dup_mail)))
    return 1 if bad or lost or dup_mail else 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "gen" and len(argv) == 6:
        gen(int(argv[2]), int(argv[3]), int(argv[4]), argv[5])
        return 0
    if cmd == "slice" and len(argv) == 5:
        sys.stdout.write(ldif_slice(argv[2], int(argv[3]), int(argv[4])))
        return 0
    if cmd == "ldap" and len(argv) == 3:
        sys.stdout.write(norm_ldap(argv[2]))
        return 0
    if cmd == "mail" and len(argv) == 3:
        sys.stdout.write(norm_mail(argv[2]))
        return 0
    if cmd == "accesslog" and len(argv) == 3:
        sys.stdout.write(norm_accesslog(argv[2]))
        return 0
    if cmd == "outcomes" and len(argv) == 3:
        return outcomes(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
