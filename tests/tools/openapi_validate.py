#!/usr/bin/env python3
"""Validates recorded API answers against doc/openapi.json (OpenAPI 3.1: every schema object is
JSON Schema Draft 2020-12, checked with python3-jsonschema's Draft202012Validator; $ref resolves
inside the document through a referencing registry, or RefResolver with Debian's jsonschema 4.10).

Usage: openapi_validate.py OPENAPI.json --lint
       openapi_validate.py OPENAPI.json RECORD.jsonl...

--lint: the document itself. Every schema is a valid Draft 2020-12 schema; every operation
declares `security`; every application/json answer has a real schema (not a bare
{"type":"object"}); no description names a C function (foo_to_json, bar()).

RECORD.jsonl (tests/tools/api_recorder.py): each line {"method","path","status","content_type",
"body"}. The path is matched to the document's templates (literal segments beat {params}); the
status must be documented for that operation; a JSON body must validate against the answer's
schema. Prints one line per mismatch and a summary; exits 1 on any mismatch.
"""
import json
import re
import sys
import urllib.parse

from jsonschema import Draft202012Validator

try:                            # jsonschema >= 4.18
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012
except ImportError:             # Debian bookworm's python3-jsonschema 4.10: RefResolver
    Registry = None

BASE = "urn:prefixd:openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def pointer(*parts):
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def operations(doc):
    for path, item in doc["paths"].items():
        for m, op in item.items():
            if m in METHODS:
                yield path, m, op


def is_bare(s):
    return (isinstance(s, dict) and s.get("type") == "object" and
            not any(k in s for k in ("properties", "additionalProperties", "$ref", "oneOf",
                                     "anyOf", "allOf", "patternProperties")))


def lint(doc):
    bad = []
    for name, s in doc.get("components", {}).get("schemas", {}).items():
        try:
            Draft202012Validator.check_schema(s)
        except Exception as e:  # noqa: BLE001 - report any schema error
            bad.append("components.schemas.%s: not a Draft 2020-12 schema: %s" % (name, e))
    for path, m, op in operations(doc):
        where = "%s %s" % (m.upper(), path)
        if "security" not in op:
            bad.append(where + ": no security")
        for st, r in op.get("responses", {}).items():
            s = r.get("content", {}).get("application/json", {}).get("schema")
            if "application/json" in r.get("content", {}) and (s is None or is_bare(s)):
                bad.append("%s %s: answer has no real schema" % (where, st))
            if s is not None:
                try:
                    Draft202012Validator.check_schema(s)
                except Exception as e:  # noqa: BLE001
                    bad.append("%s %s: bad schema: %s" % (where, st, e))
    for m in re.finditer(r'"description": "([^"\\]|\\.)*"', json.dumps(doc)):
        if re.search(r"\b[a-z]+(_[a-z0-9]+)*_to_json\b|\b[a-z]+_[a-z_]+\(\)", m.group(0)):
            bad.append("a description names a C function: " + m.group(0)[:120])
    return bad


def templates(doc):
    """(regex, template) pairs, most literal segments first."""
    out = []
    for t in doc["paths"]:
        segs = t.strip("/").split("/")
        rx = "/" + "/".join("[^/]+" if re.fullmatch(r"\{[^}]+\}", s) else re.escape(s) for s in segs)
        literal = sum(1 for s in segs if not s.startswith("{"))
        out.append((re.compile(rx + "$"), t, literal))
    out.sort(key=lambda x: -x[2])
    return out


def match(tpls, doc, method, path):
    path = urllib.parse.unquote(path)
    for rx, t, _ in tpls:
        if rx.match(path) and method in doc["paths"][t]:
            return t
    return None


def check_record(doc, tpls, registry, rec):
    method, status = rec["method"].lower(), str(rec["status"])
    t = match(tpls, doc, method, rec["path"])
    where = "%s %s %s" % (rec["method"], rec["path"], status)
    if t is None:
        # a path or method the document lacks must be refused: 404 no-such-route, 405
        if status not in ("404", "405"):
            return where + ": no such operation in the document, and not refused", None
        return validate(registry, BASE + "#/components/schemas/Error", rec, where), None
    resps = doc["paths"][t][method].get("responses", {})
    key = status if status in resps else status[0] + "XX" if status[0] + "XX" in resps else \
        "default" if "default" in resps else None
    if key is None:
        return "%s: status %s is not documented for %s %s" % (where, status, method.upper(), t), t
    resp = resps[key]
    if "$ref" in resp:
        resp = resolve(doc, resp["$ref"])
    content = resp.get("content", {})
    ctype = (rec.get("content_type") or "").split(";")[0].strip()
    if ctype != "application/json":
        if content and ctype not in content and "*/*" not in content:
            return "%s: content type %r is not documented (%s)" % (where, ctype, list(content)), t
        return None, t
    if "application/json" not in content:
        return "%s: a JSON answer where the document declares %s" % (where, list(content)), t
    if "$ref" in resps[key]:
        ref = BASE + resps[key]["$ref"] + "/content/application~1json/schema"
    else:
        ref = BASE + pointer("paths", t, method, "responses", key, "content",
                             "application/json", "schema")
    return validate(registry, ref, rec, "%s (%s %s)" % (where, t, key)), t


def resolve(doc, ref):
    node = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def validate(registry, ref, rec, where):
    """None when rec's body is JSON and matches the schema at ref, else the first mismatch."""
    try:
        body = json.loads(rec["body"])
    except (TypeError, ValueError) as e:
        return "%s: body is not JSON: %s" % (where, e)
    if Registry is None:
        from jsonschema import RefResolver
        v = Draft202012Validator({"$ref": ref}, resolver=RefResolver(BASE, registry,
                                                                      store={BASE: registry}))
    else:
        v = Draft202012Validator({"$ref": ref}, registry=registry)
    errs = sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errs:
        e = errs[0]
        return "%s: at /%s: %s (schema path %s)" % (
            where, "/".join(map(str, e.absolute_path)), e.message[:300],
            "/".join(map(str, e.absolute_schema_path)))
    return None


def main():
    doc = json.load(open(sys.argv[1]))
    if sys.argv[2:] == ["--lint"]:
        bad = lint(doc)
        for b in bad:
            print("MISMATCH " + b)
        print("lint: %d operations, %d problems" % (sum(1 for _ in operations(doc)), len(bad)))
        return 1 if bad else 0
    registry = doc if Registry is None else \
        Registry().with_resource(BASE, DRAFT202012.create_resource(doc))
    tpls = templates(doc)
    n, bad, seen = 0, 0, set()
    for f in sys.argv[2:]:
        for line in open(f):
            if not line.strip():
                continue
            rec = json.loads(line)
            msg, t = check_record(doc, tpls, registry, rec)
            n += 1
            if t:
                seen.add("%s %s %s" % (rec["method"], t, rec["status"]))
            if msg:
                bad += 1
                print("MISMATCH " + msg)
    for s in sorted(seen):
        print("  covered: " + s)
    print("validated %d answers (%d distinct operation/status), %d mismatches" % (n, len(seen), bad))
    return 1 if bad or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
