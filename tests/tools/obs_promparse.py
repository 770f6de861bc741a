#!/usr/bin/env python3
"""obs_promparse — a strict parser of the Prometheus text exposition format (0.0.4).

Used by tests/integration/test_obs_metrics.sh to check what prefixd serves on GET /metrics.
Written from the format's description, stricter than Prometheus itself where the description
says "should":

  - lines end with \\n; no empty lines, no trailing white space; comments other than
    "# HELP name text" and "# TYPE name type" are refused (prefixd writes none);
  - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do not
    start with "__"; a label value is "..." with only \\\\, \\" and \\n escapes; no label twice;
  - HELP and TYPE at most once per family, before its first sample; TYPE one of counter,
    gauge, histogram, summary, untyped; all samples of a family are contiguous (a family
    never reappears after another one started);
  - values are Go-style floats (also +Inf, -Inf, NaN); an optional integer timestamp;
  - no duplicate series (same name and label set);
  - counter samples are >= 0; histogram families have only _bucket (with le), _sum, _count;
    per label set the le values are strictly ascending, end with +Inf, bucket counts do not
    decrease, and _count equals the +Inf bucket; _sum and _count are present.

Usage: obs_promparse.py [FILE]  (stdin by default). Exit 0 and print one line per sample as
"name{k="v",...} value" (labels sorted) so a test can grep exact values; exit 1 with
"line N: reason" on the first violation.
"""
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
FLOAT = re.compile(r'[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|Inf|NaN)')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')


class ParseError(Exception):
    pass


def parse_value(s):
    if not FLOAT.fullmatch(s) or s in ('+NaN', '-NaN'):
        raise ParseError('bad value %r' % s)
    return float(s)


def parse_labels(s, i):
    """s[i] == '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == '}':
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ParseError('bad label name at column %d' % (i + 1))
        name = m.group(0)
        if name.startswith('__'):
            raise ParseError('reserved label name %s' % name)
        if name in labels:
            raise ParseError('label %s given twice' % name)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ParseError('want =" after label %s' % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ParseError('unterminated label value')
            c = s[i]
            if c == '\\':
                nxt = s[i + 1:i + 2]
                if nxt not in ('\\', '"', 'n'):
                    raise ParseError('bad escape \\%s in label value' % nxt)
                val.append('\n' if nxt == 'n' else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise ParseError('newline in label value')
            else:
                val.append(c)
                i += 1
        labels[name] = ''.join(val)
        if i < len(s) and s[i] == ',':
            i += 1
            if i < len(s) and s[i] == '}':
                return labels, i + 1
        elif i < len(s) and s[i] == '}':
            return labels, i + 1
        else:
            raise ParseError('want , or } after a label value')


def family_of(name, types):
    """The family a sample name belongs to (histogram/summary suffixes stripped)."""
    for suf in ('_bucket', '_sum', '_count'):
        base = name[:-len(suf)]
        if name.endswith(suf) and types.get(base) in ('histogram', 'summary'):
            if suf == '_bucket' and types[base] != 'histogram':
                continue
            return base, suf
    return name, ''


def le_key(labels):
    return tuple(sorted((k, v) for k, v in labels.items() if k != 'le'))


def check_histograms(hists):
    for fam, sets in hists.items():
        for key, h in sets.items():
            where = '%s%s' % (fam, dict(key) if key else '')
            les = h['buckets']
            if not les:
                raise ParseError('histogram %s has no buckets' % where)
            prev_le, prev_n = -math.inf, -1
            for le, n in les:
                if le <= prev_le:
                    raise ParseError('histogram %s: le not ascending' % where)
                if n < prev_n:
                    raise ParseError('histogram %s: bucket counts decrease' % where)
                prev_le, prev_n = le, n
            if les[-1][0] != math.inf:
                raise ParseError('histogram %s: no +Inf bucket' % where)
            if h.get('count') is None or h.get('sum') is None:
                raise ParseError('histogram %s: _sum or _count missing' % where)
            if h['count'] != les[-1][1]:
                raise ParseError('histogram %s: _count %g != +Inf bucket %g' %
                                 (where, h['count'], les[-1][1]))


def parse(text):
    if text and not text.endswith('\n'):
        raise ParseError('line %d: last line does not end with a newline' %
                         (text.count('\n') + 1))
    types, helps, seen_fam, done_fams = {}, {}, None, set()
    series, out, hists, sampled = set(), [], {}, set()
    for n, line in enumerate(text.split('\n')[:-1], 1):
        try:
            if line == '' or line != line.rstrip():
                raise ParseError('empty line or trailing white space')
            if line.startswith('#'):
                parts = line.split(' ', 3)
                if len(parts) < 3 or parts[0] != '#' or parts[1] not in ('HELP', 'TYPE'):
                    raise ParseError('comment that is neither HELP nor TYPE')
                kind, fam = parts[1], parts[2]
                if not NAME.fullmatch(fam):
                    raise ParseError('bad metric name %r' % fam)
                if fam in done_fams or fam in sampled:
                    raise ParseError('%s for %s after its samples' % (kind, fam))
                if seen_fam != fam and seen_fam is not None:
                    done_fams.add(seen_fam)
                seen_fam = fam
                if kind == 'TYPE':
                    if fam in types:
                        raise ParseError('second TYPE for %s' % fam)
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ParseError('bad type for %s' % fam)
                    types[fam] = parts[3]
                else:
                    if fam in helps:
                        raise ParseError('second HELP for %s' % fam)
                    helps[fam] = parts[3] if len(parts) == 4 else ''
                continue
            m = NAME.match(line)
            if not m:
                raise ParseError('bad metric name')
            name, i = m.group(0), m.end()
            labels = {}
            if i < len(line) and line[i] == '{':
                labels, i = parse_labels(line, i)
            rest = line[i:]
            if not rest.startswith(' '):
                raise ParseError('want a space before the value')
            fields = rest[1:].split(' ')
            if len(fields) not in (1, 2) or (len(fields) == 2 and
                                             not re.fullmatch(r'-?[0-9]+', fields[1])):
                raise ParseError('want VALUE [TIMESTAMP]')
            value = parse_value(fields[0])
            fam, suf = family_of(name, types)
            if fam != seen_fam:
                if fam in done_fams:
                    raise ParseError('family %s continues after another family' % fam)
                if seen_fam is not None:
                    done_fams.add(seen_fam)
                seen_fam = fam
            key = (name, tuple(sorted(labels.items())))
            if key in series:
                raise ParseError('duplicate series %s%s' % (name, labels))
            series.add(key)
            sampled.add(fam)
            typ = types.get(fam, 'untyped')
            if typ == 'counter' and not value >= 0:
                raise ParseError('counter %s is negative or NaN' % name)
            if typ == 'histogram':
                if suf == '':
                    raise ParseError('histogram %s sample without _bucket/_sum/_count' % name)
                h = hists.setdefault(fam, {}).setdefault(le_key(labels), {'buckets': []})
                if suf == '_bucket':
                    if 'le' not in labels:
                        raise ParseError('bucket without le')
                    h['buckets'].append((parse_value(labels['le']), value))
                else:
                    if 'le' in labels:
                        raise ParseError('le on %s' % name)
                    h[suf[1:]] = value
            elif 'le' in labels and typ != 'untyped' and typ != 'summary':
                raise ParseError('le label on a %s' % typ)
            lab = ','.join('%s="%s"' % (k, v.replace('\\', '\\\\').replace('"', '\\"')
                                        .replace('\n', '\\n'))
                           for k, v in sorted(labels.items()))
            out.append('%s%s %s' % (name, '{%s}' % lab if lab else '', fields[0]))
        except ParseError as e:
            raise ParseError('line %d: %s: %s' % (n, e, line[:120]))
    check_histograms(hists)
    return out


def main():
    text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
    try:
        for s in parse(text):
            print(s)
    except ParseError as e:
        print('obs_promparse: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
