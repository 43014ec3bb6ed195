#!/usr/bin/env python3
"""Adds type-confusion and syntax seeds to the seeds seeds.py wrote: for the targets that
deserialize a config or an API answer, every key of every seed set to a value of every type
and of every spelling the format has, and every table given as an array; and for containerd,
arrays merged from an imported file (containerd_merges), arrays nested in arrays
(containerd_nested), old CRI sections of every shape to migrate (containerd_migrations) and
tables of many keys (containerd_big_tables); for kubelet_config, keys in each of YAML's forms
at each place a key is read, alone, merged and in duplicate pairs (kubelet_keys), and its
corpus nested in a struct and an ignored value (kubelet_nested); for daemon_json, exec-opts
around each kind of white space (daemon_exec_opts), objects of many keys
(daemon_big_objects), cri-docker.service's ExecStart (docker_units), and the node's files
that the docker group's dependencies (system, cgroups) and the group itself read
(daemon_node).

Why: what the long runs of crio_config still found, named by newfuncs.py from their NEW_PC
lines, was the deserializers serde derives for the crate's types meeting a value of the wrong
type: a float or a date where a table is expected, a table written as an array (serde reads a
struct from a sequence too), and the drops of each on the error path. Each key times each
type is a small, finite set, but the fuzzer reaches it only by chance, a few edges per
doubling of its executions; written out, it is in the corpus from the start. The parsers'
generic code (serde_json's whole parser is generic over its reader, so instantiated and
instrumented in the crate) is reached the same way, with the odd spellings of each value:
numbers past every limit, escapes, nesting, YAML's tags, anchors and block scalars. Unknown
keys go through serde's IgnoredAny, which is instrumented too, so they are varied as well.

Each variant is small, the key's path alone, so the merge's length limit (campaign.py
MERGE_LEN) keeps it; the top-level keys that decide how the rest is read (containerd's
`version`, the kubelet's `apiVersion` and `kind`) are kept from the seed. For docker_http one
of the two answers' bodies is varied and the other kept.

Needs PyYAML (Debian's python3-yaml) to read the kubelet seeds, and the repository's git
history: kubelet_nested reads kubelet_config's corpus as committed at KUBELET_CORPUS_AT.

Usage: fuzz/scripts/typeseeds.py [SEEDS]   (default /tmp/np-seeds; run seeds.py SEEDS first)
"""
import base64
import json
import os
import random
import re
import subprocess
import sys
import tomllib

import yaml

from seeds import HOSTS, PART, REPO, answer, host_files, multi, read

SEEDS = sys.argv[1] if len(sys.argv) > 1 else "/tmp/np-seeds"
# A file's mark in a multi-file input, with the line end before it.
MARK = b"\n#@@ "
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


# The names this script gives its seeds, which it does not vary again when run twice.
OURS = ("type-", "merge-", "shape-", "opts-", "node-", "key-", "nest-")


class Raw(str):
    """A value written as is: the TOML, YAML or JSON text of a sample."""


# Samples of every type each format has, written out, not built: the odd spellings (a date,
# nan, a big integer) are the point.
TOML_SAMPLES = ["\"s\"", "\"\"", "0", "-1", "9223372036854775807", "1.5", "nan", "-inf",
                "true", "1979-05-27T07:32:00Z", "1979-05-27T07:32:00", "1979-05-27",
                "07:32:00", "[]", "[\"a\"]", "[1]", "[[]]", "[{}]", "{}", "{a = 1}"]
JSON_SAMPLES = ["\"s\"", "\"\"", "0", "-1", "18446744073709551616", "-9223372036854775809",
                "1.5", "1e400", "true", "false", "null", "[]", "[\"a\"]", "[1]", "[[]]", "[{}]",
                "{}", "{\"a\": 1}", "\"\\ud800\""]
# TOML's other spellings: string styles and escapes, integer bases and separators, the
# datetime forms with fractions and offsets, the special floats' signs.
TOML_SAMPLES += [
    "'literal'", '"""multi\nline"""', "'''raw\nlines'''", '"\\u00e9\\U0001F600\\t\\\\"',
    "0x1F", "0o17", "0b101", "1_000", "+1", "-0.0", "1e-400", "+inf", "-nan", "6.02e+23",
    # Past i64 the toml crate goes on to u64, i128 and u128, then overflows: a visit_* each.
    "9223372036854775808", "-9223372036854775809", "170141183460469231731687303715884105728",
    "-170141183460469231731687303715884105729", "340282366920938463463374607431768211456",
    "0xffffffffffffffffffffffffffffffff", "1e999",
    "1979-05-27T07:32:00.999999-07:00", "1979-05-27 07:32:00", "07:32:00.5",
    '[1, "a", 1.5]', "[\n1,\n]", "{a.b = 1}", '{"a" = {b = []}}',
]
# The spellings of each JSON value whose parsing takes its own path (serde_json's parser is
# generic, so instantiated, and instrumented, in the crate): numbers past each limit, with
# long mantissas and big exponents; every escape; nesting at serde_json's depth limit (128).
JSON_SAMPLES += [
    "-0", "0.0", "1E+2", "1e-400", "123456789012345678901234567890",
    "0.1234567890123456789012345678901234567890", "1.7976931348623157e309", "4.9e-324",
    "9007199254740993", "-1.5e-3", r'"\u0000\b\f\n\r\t\/\\\""', r'"\ud83d\ude00"',
    r'"\udc00"', r'"\ud800\u0041"', '"\u00e9\u20ac\U0001F600"', "[" * 127 + "]" * 127,
    "[" * 129 + "]" * 129, '{"a": {"b": [1, {"c": null}]}}', "[1, 2, ]", '{"a": 1, }', "01",
    "1.", ".5", "+1", "NaN", '"\t"',
]
# YAML's own ways to spell a value: tags, anchors and aliases, merge keys, block scalars with
# their indicators, quoting styles, the null and bool spellings of YAML 1.1 and 1.2.
YAML_SAMPLES = JSON_SAMPLES + [
    "~", "0x1f", "0o17", "0b101", ".nan", "-.inf", "1_000", "yes", "Off", "NULL", "!!str 1",
    '!!int "7"', "!!float 1", "!!bool true", "!!null ''", "!!binary aGk=", "!custom x",
    "!<tag:yaml.org,2002:str> x", "&a [*a]", "&b {x: 1}", "*undefined", "{<<: {a: 1}}",
    "{<<: [{a: 1}, {b: 2}]}", "'single ''quoted'''", '"line\\\n  folded"',
    "|\n  kept\n  lines", "|-\n  stripped", "|+\n  kept\n\n", ">\n  folded\n  text",
    ">2\n    indented", "? complex\n: key", "[a, [b, {c: d}]]", "{a: [1, 2], b: {c: ~}}",
    "\n- a\n- b", "\na: 1\nb: 2", "2001-12-14t21:59:43.10-05:00",
]
# A table given as an array: serde derive's visit_seq reads fields in order, so a few strings
# (the type of most fields) and then one element of another type.
SEQ_TAILS = ["", "1", "1.5", "true", "[]", "{}"]
# Top-level keys that decide how the rest of a file is read (containerd's schema version, the
# kubelet file's kind), kept in every variant of a seed that has them.
CONTEXT = {"version", "apiVersion", "kind"}
# The longest (as JSON) set of other keys a variant keeps beside the varied one, and value it
# keeps under an escaped key.
SIBLINGS_MAX = 1200


class Escaped(str):
    """A key written with its first character escaped: the deserializer gets an owned string
    (visit_string) where it gets a borrowed one otherwise, and each field visitor has both."""


def quoted(key):
    """key as a double-quoted string, which JSON, TOML and YAML spell alike."""
    if isinstance(key, Escaped) and key:
        return f'"\\u{ord(key[0]):04x}' + json.dumps(str(key[1:]))[1:]
    return json.dumps(key)


def toml_key(key):
    return key if BARE_KEY.match(key) and not isinstance(key, Escaped) else quoted(key)


def inline(value, key=quoted, sep=": "):
    """value in JSON's inline syntax, which TOML shares but for its keys and `=`: a Raw as is,
    tables and arrays member by member, scalars as JSON writes them (a date as a string)."""
    if isinstance(value, Raw):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key(k)}{sep}{inline(v, key, sep)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(inline(v, key, sep) for v in value) + "]"
    return json.dumps(value, default=str)


def toml_value(value):
    return inline(value, toml_key, " = ")


def toml_doc(doc):
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in doc.items())


def json_value(value):
    return inline(value)


def yaml_doc(doc, indent=""):
    # Block mappings down the path, the sample in flow style (JSON is YAML) at its end.
    out = []
    for k, v in doc.items():
        key = quoted(k)
        if isinstance(v, dict) and v:
            out.append(f"{indent}{key}:\n" + yaml_doc(v, indent + "  "))
        else:
            # A block scalar's or block collection's lines, under this key.
            text = json_value(v).replace("\n", "\n" + indent + "  ")
            out.append(f"{indent}{key}: {text}\n")
    return "".join(out)


class Item:
    """A step into a list (its first element), in a path of keys."""

    def __str__(self):
        return "[]"


ITEM = Item()


def paths(value, prefix=()):
    """Every (path, value, the table holding it) below value; a list is entered through its
    first element."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield prefix + (k,), v, value
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list) and value:
        yield from paths(value[0], prefix + (ITEM,))


def build(path, leaf):
    """The document holding only leaf at path (a step into a list: a one-element list)."""
    for step in reversed(path):
        leaf = [leaf] if step is ITEM else {step: leaf}
    return leaf


def variants(doc, samples):
    """doc's keys, each given each sample: alone (with the CONTEXT keys), and after the other
    keys of its table (a deserializer that fails on the last field drops those it has read,
    which is code of its own); tables also as arrays."""
    top = {k: v for k, v in doc.items() if k in CONTEXT}
    seen = set()
    for path, value, table in paths(doc):
        shape = "/".join(map(str, path))
        if shape in seen:
            continue
        seen.add(shape)
        leaves = list(samples)
        if isinstance(value, dict):
            leaves += ["[" + ", ".join(['"a"'] * n + ([tail] if tail else [])) + "]"
                       for n in range(0, 5) for tail in SEQ_TAILS if n or tail]
        others = {k: v for k, v in table.items() if k != path[-1]}
        # Only small tables: the merge keeps no more than MERGE_LEN bytes of an input.
        small = others and len(json.dumps(others, default=str)) < SIBLINGS_MAX
        if isinstance(path[-1], str):
            # The key escaped, its value kept if small (an empty one of its type if not).
            if len(json.dumps(value, default=str)) > SIBLINGS_MAX:
                value = Raw("{}" if isinstance(value, dict) else "[]")
            yield {**top, **build(path[:-1] + (Escaped(path[-1]),), value)}
        for leaf in leaves:
            yield {**top, **build(path, Raw(leaf))}
            if small:
                yield {**top, **build(path[:-1], {**others, path[-1]: Raw(leaf)})}


def first_file(data):
    """The first file of a seed (up to its first `#@@ ` mark)."""
    cut = data.find(MARK)
    return data if cut < 0 else data[:cut + 1]


def seeds_of(target):
    folder = os.path.join(SEEDS, target)
    if not os.path.isdir(folder):
        sys.exit(f"typeseeds.py: no {folder}; run fuzz/scripts/seeds.py {SEEDS} first")
    for name in sorted(os.listdir(folder)):
        if not name.startswith(OURS):
            yield read(os.path.join(folder, name))


def write(target, docs, prefix="type-"):
    """Writes each distinct document once; returns how many."""
    written = set()
    for doc in docs:
        if doc in written:
            continue
        written.add(doc)
        name = f"{prefix}{len(written):05d}"
        with open(os.path.join(SEEDS, target, name), "wb") as f:
            f.write(doc)
    return len(written)


def parsed(target, parse):
    for data in seeds_of(target):
        try:
            yield parse(first_file(data).decode())
        except (ValueError, UnicodeDecodeError, yaml.YAMLError):
            continue  # a seed that is not a config (an odd fixture): nothing to vary


def kubelet_docs(text):
    docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    kubelet = [d for d in docs if d.get("kind") == "KubeletConfiguration"]
    if not kubelet:
        raise ValueError("no KubeletConfiguration")
    return kubelet[0]


def toml_target(target, docs):
    return write(target, (toml_doc(v).encode() for d in docs for v in variants(d, TOML_SAMPLES)))


# containerd's merge of an imported file appends an array's elements to the importing
# file's, and from version 2 on only those not there yet: comparing them is code per kind of
# element (tree::Scalar). Session 13's run found its last edges there after 1.9 million
# executions. Each array below has an element of each kind, a second one of the same kind and
# one equal to the other file's.
MERGE_INTO = "[1, true, \"a\", 1.5, 1979-05-27, [1, \"a\"], [], {a = 1}]"
MERGE_FROM = ("[2, 1, false, true, \"b\", \"a\", 2.5, 1.5, 1979-05-28, 1979-05-27, "
              "[1, \"b\"], [1, \"a\"], [[1]], [], {a = 2}, {a = 1}]")
IMPORTED = "/etc/containerd/conf.d/merge.toml"


# A version 3 file that imports IMPORTED and sets nothing else.
IMPORTING = f"version = 3\nimports = [{json.dumps(IMPORTED)}]"


def two_files(first, second, path=IMPORTED):
    """A seed of two files, the target's own and `second` at `path`, behind the mark that
    names it (MARK starts with a line end, so `first` need not end its last line)."""
    return first.encode() + MARK + path.encode() + b"\n" + second.encode()


def containerd_merges(docs):
    """Each key of each containerd seed given an array in the importing file and in the file
    it imports, and a scalar or an empty array in either, for each schema version. (A key
    in several seeds gives the same documents again, which write() keeps once.)"""
    for doc in docs:
        for version in (1, 2, 3):
            for path, value, _ in paths(doc):
                if isinstance(value, dict) or path[-1] in CONTEXT | {"imports"}:
                    continue
                for into, imported in ((MERGE_INTO, MERGE_FROM), ("\"s\"", MERGE_FROM),
                                       (MERGE_INTO, "[]"), (MERGE_INTO, "\"s\"")):
                    main = {"version": version, "imports": [IMPORTED],
                            **build(path, Raw(into))}
                    other = {"version": version, **build(path, Raw(imported))}
                    yield two_files(toml_doc(main).rstrip("\n"), toml_doc(other))


# What the runs from the merge seeds still found, about one edge per doubling of executions:
# tree::Scalar's comparison one array deeper each time (its derived `eq` is inlined at each
# depth, so each depth is code of its own), and the v2 -> v3 migration meeting a CRI section
# whose parts are not tables. Written out: arrays down to NEST_DEPTH holding each kind of
# element, compared equal, unequal in value and unequal in length at the innermost level; and
# version 1 and 2 files with each part the migration reads a table, a scalar or absent.
NEST_DEPTH = 4
# Each kind of element and a second, unequal one (tables inside arrays are all "(table)").
KINDS = [("1", "2"), ("true", "false"), ('"a"', '"b"'), ("1.5", "2.5"),
         ("1979-05-27", "1979-05-28"), ("{a = 1}", "{b = 2}"), ("[]", "[[]]")]
NEST_KEYS = [("disabled_plugins",), ("required_plugins",), ("debug", "format")]


def wrap(item, depth):
    return "[" * depth + item + "]" * depth


def nested_pair(kinds, depth):
    """The importing file's array and the imported file's, for kinds at depth: the imported
    one has each element again, one unequal at the innermost level, one longer, and one
    whose second element differs."""
    into, imported = [], []
    for x, other in kinds:
        into += [wrap(x, depth), wrap(f"{x}, {x}", depth)]
        imported += [wrap(other, depth), wrap(f"{x}, {other}", depth),
                     wrap(f"{x}, {x}, {x}", depth), wrap(x, depth), wrap(f"{x}, {x}", depth)]
    return "[" + ", ".join(into) + "]", "[" + ", ".join(imported) + "]"


def containerd_nested():
    """Each kind alone and all together, at each depth, in a version 3 file importing one of
    version 2 or 3 (a version 3 root merges arrays as containerd 2.x: only new elements)."""
    for depth in range(NEST_DEPTH + 1):
        for kinds in [[k] for k in KINDS] + [KINDS]:
            into, imported = nested_pair(kinds, depth)
            for path in NEST_KEYS:
                for version in (2, 3):
                    main = {"version": 3, "imports": [IMPORTED], **build(path, Raw(into))}
                    other = {"version": version, **build(path, Raw(imported))}
                    yield two_files(toml_doc(main).rstrip("\n"), toml_doc(other))


# The CRI plugin's section in a version 1 and a version 2 file, what migrate.rs moves from.
OLD_CRI_SECTIONS = ((1, "cri"), (2, "io.containerd.grpc.v1.cri"))
# The parts of a version 1 or 2 CRI section that migrate.rs reads, each a table (with what
# it moves), another table, a scalar, or absent; and the version 3 sections it moves them
# to, already there as a table holding the same keys, or as a scalar.
CRI_PARTS = {
    "containerd": ['{snapshotter = "native", default_runtime_name = "runc", '
                   'runtimes = {runc = {runtime_type = "io.containerd.runc.v2"}}}',
                   '{default_runtime_name = "runc"}', '"s"', None],
    "cni": ['{bin_dir = "/opt/cni/bin", conf_dir = "/etc/cni/net.d"}',
            "{bin_dir = {a = 1}, conf_dir = 1}", '"s"', None],
    "sandbox_image": ['"pause:3.9"', "{a = 1}", None],
    "registry": ['{config_path = "/etc/containerd/certs.d"}', "1", None],
    "enable_selinux": ["true", None],
}
CRI_TARGETS = {
    "io.containerd.cri.v1.images": ['{pinned_images = {sandbox = "p"}, snapshotter = "z"}',
                                    "{pinned_images = 1}", "1"],
    "io.containerd.cri.v1.runtime": ['{containerd = {default_runtime_name = "x"}, '
                                     'cni = {conf_dir = "/x"}, enable_selinux = false}',
                                     "{containerd = 1, cni = 1}", "1"],
}
# Plugin names of each form v1_plugin_name maps, and items that are not names.
PLUGIN_NAMES = ['"cri"', '"zfs"', '"diff-service"', '"windows"', '"windows-lcow"', '"foo"',
                '"io.containerd.x.v1.y"', '""']
NOT_NAMES = ["1", '["cri"]']


def cri_section(parts):
    return "{" + ", ".join(f"{k} = {v}" for k, v in parts.items() if v is not None) + "}"


def containerd_migrations():
    """Version 1 and 2 files, alone and imported by a version 3 one."""
    full = {k: v[0] for k, v in CRI_PARTS.items()}
    sections = [full] + [{**full, k: v} for k, vs in CRI_PARTS.items() for v in vs[1:]]
    names = "[" + ", ".join(PLUGIN_NAMES + NOT_NAMES) + "]"
    for version, cri in OLD_CRI_SECTIONS:
        plugin_sets = [{cri: cri_section(s)} for s in sections] + [{cri: "1"}]
        plugin_sets += [{cri: cri_section(full), target: v}
                        for target, vs in CRI_TARGETS.items() for v in vs]
        plugin_sets.append({name.strip('"'): "{a = 1}" for name in PLUGIN_NAMES})
        docs = [f"version = {version}\nplugins = 1\n",
                f'version = {version}\ndisabled_plugins = {names}\nrequired_plugins = "cri"\n',
                f"version = {version}\nrequired_plugins = {names}\ndisabled_plugins = 1\n"]
        docs += [f"version = {version}\n[plugins]\n"
                 + "".join(f"{json.dumps(k)} = {v}\n" for k, v in plugins.items())
                 for plugins in plugin_sets]
        for doc in docs:
            yield doc.encode()
            yield two_files(IMPORTING, doc)


# Each value type of the tree (a string, an integer, a boolean, a float or a date kept as
# text, arrays of each and nested, a table of each), for the migration to copy: every key it
# copies is a clone of its own, one branch per type, and session 17's runs still found
# those one by one (bin_dir's after 2.2 million executions from session 15's seeds).
CLONED_VALUES = ['"s"', "1", "true", "1.5", "1979-05-27", '["a", 1, true, 1.5, ["b"], {c = 1}]',
                 "[]", '{a = "s", b = 1, c = true, d = 1.5, e = [1], f = {g = 1}}']


def containerd_clones():
    """Version 1 and 2 CRI sections with every key the migration copies set to each type,
    alone and imported by a version 3 file."""
    for value in CLONED_VALUES:
        for version, cri in OLD_CRI_SECTIONS:
            doc = (f"version = {version}\n[plugins.{json.dumps(cri)}]\n"
                   + "".join(f"{key} = {value}\n" for key in (
                       "sandbox_image", "registry", "image_decryption",
                       "max_concurrent_downloads", "stats_collect_period", "other"))
                   + f"[plugins.{json.dumps(cri)}.containerd]\nruntimes = {{runc = {{}}}}\n"
                   + "".join(f"{key} = {value}\n" for key in (
                       "snapshotter", "disable_snapshot_annotations",
                       "discard_unpacked_layers", "default_runtime_name"))
                   + f"[plugins.{json.dumps(cri)}.cni]\nbin_dir = {value}\n"
                   + f"conf_dir = {value}\n")
            yield doc.encode()
            yield two_files(IMPORTING, doc)


# Tables of many keys reach std's code instantiated for the crate's trees: the sort behind
# BTreeMap's collect (small sorts below 21 entries, runs and merges above) and the node
# splits of insert (more than 11 keys in a node, then more levels). Fuzzed inputs grow
# their length slowly, so these came late. Written out: tables of each size in ascending,
# descending and mixed key order, in the file, in the file it imports (merged key by key) and
# in a version 2 CRI section (copied by the migration).
TABLE_SIZES = [12, 21, 33, 70, 150, 400]


def key_orders(n):
    keys = [f"k{i:04d}" for i in range(n)]
    mixed = keys[::2] + keys[1::2][::-1]
    yield keys
    yield keys[::-1]
    yield mixed
    shuffled = list(keys)
    random.Random(n).shuffle(shuffled)
    yield shuffled


def containerd_big_tables():
    for n in TABLE_SIZES:
        for keys in key_orders(n):
            body = "".join(f"{k} = {i}\n" for i, k in enumerate(keys))
            inline = "{" + ", ".join(f"{k} = {i}" for i, k in enumerate(keys)) + "}"
            half = "".join(f"{k} = [{i}]\n" for i, k in enumerate(keys) if i % 2)
            yield f"version = 3\n{body}".encode()
            yield f"version = 3\n[plugins.x]\n{body}".encode()
            yield two_files(f"{IMPORTING}\n{half}", f"version = 3\n{body}[plugins.x]\n{body}")
            yield two_files(IMPORTING, f'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n'
                                       f"{body}containerd = {inline}\ncni = {inline}\n")


# daemon_json's last edges (session 12) were std's code inlined into the reading of
# exec-opts: `trim`'s char::is_whitespace (a branch per block of Unicode where white space
# is, and UTF-8 decoded forwards and backwards, by length) and the string searches of
# `split_once` and of the literal's line (`str::find`, whose searcher depends on the
# needle's length and period). Written out: an option padded on each side of its key and
# value by each white space character and by a neighbour of each that is not one, spelled as
# is and as JSON escapes (then the literal is not in the text as written), keys and values
# of every length to 40 and periodic ones, and the key's case and near misses.
UNICODE_SPACES = ["\t", "\n", "\x0b", "\x0c", "\r", " ", "\x85", "\xa0", "\u1680", "\u2000",
                  "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
# Not white space, each in a block that has some (or none, at each UTF-8 length).
NOT_SPACES = ["a", "\x7f", "\x84", "\xa1", "\xe9", "\u167f", "\u1681", "\u1fff", "\u200b",
              "\u2030", "\u2fff", "\u3001", "\u4e00", "\uffef", "\U0001f600", "\U0010fffd"]
DRIVER_KEY = "native.cgroupdriver"


def daemon_exec_opts():
    options = []
    for c in UNICODE_SPACES + NOT_SPACES:
        options += [f"{c}{DRIVER_KEY}=systemd", f"{DRIVER_KEY}{c}=systemd",
                    f"{DRIVER_KEY}={c}systemd", f"{DRIVER_KEY}=systemd{c}",
                    f"{c}{DRIVER_KEY}{c}={c}{c}", f"{c}{c}{DRIVER_KEY}{c}{c}={c}systemd{c}{c}"]
    for n in range(41):
        options += [f"{DRIVER_KEY}={'a' * n}", f"{DRIVER_KEY}={'ab' * n}",
                    f"{'k' * n}=v", "k" * n, f"{DRIVER_KEY}={'a' * n}b{'a' * n}"]
    options += ["NATIVE.CGROUPDRIVER=cgroupfs", "Native.CgroupDriver=systemd",
                "native.cgroupdrivex=systemd", "native.cgroupdrive=systemd",
                "native.cgroupdriverr=systemd", "native.cgroupdrivér=systemd",
                f"{DRIVER_KEY}", f"{DRIVER_KEY}=", f"{DRIVER_KEY}==", f"={DRIVER_KEY}",
                f"{DRIVER_KEY}=systemd=cgroupfs"]
    for opt in options:
        for ascii_only in (False, True):
            literal = json.dumps(opt, ensure_ascii=ascii_only)
            yield f'{{"exec-opts": [{literal}]}}\n'.encode()
            yield f'{{\n  "exec-opts": [\n    "a=b",\n    {literal}\n  ]\n}}\n'.encode()


def daemon_big_objects():
    """daemon.json objects of each size and key order (serde_json's Map is a BTreeMap), and
    exec-opts lists as long, the driver option first, last or absent."""
    for n in TABLE_SIZES:
        for keys in key_orders(n):
            members = ", ".join(f'"{k}": {i}' for i, k in enumerate(keys))
            yield f'{{{members}, "exec-opts": ["{DRIVER_KEY}=systemd"]}}\n'.encode()
            yield f'{{"log-opts": {{{members}}}}}\n'.encode()
        opts = [f'"k{i}=v"' for i in range(n)]
        for listed in (opts, opts + [f'"{DRIVER_KEY}=systemd"'],
                       [f'"{DRIVER_KEY}=cgroupfs"'] + opts):
            yield f'{{"exec-opts": [{", ".join(listed)}]}}\n'.encode()


def docker_units():
    """cri-docker.service's ExecStart read the same way (logical_lines' and the key's `trim`,
    split_command's is_whitespace between words): each character above around the key, the
    value and the flag, with continuations, quotes and systemd's prefixes."""
    unit = "/lib/systemd/system/cri-docker.service"
    flag = "--pod-infra-container-image"
    for c in UNICODE_SPACES + NOT_SPACES:
        lines = [f"{c}ExecStart{c}={c}/usr/bin/cri-dockerd{c}{flag}{c}pause:3.9{c}",
                 f"ExecStart=/usr/bin/cri-dockerd {flag}={c}pause{c} \\\n{c}--x{c}\\{c}\n{c}",
                 f"{c}[Service]{c}\nExecStart={c}-@/usr/bin/cri-dockerd '{c}{flag}' \"{c}p\"",
                 f"#{c}\n;{c}\n{c}\nExecStart=\nExecStart=+!:{c}{flag}{c}{c}=x"]
        # The flag given again in each form (the last wins), and a near miss.
        lines += [f"ExecStart=/c {flag}=a {flag} b{c} {flag}={c} {flag}x=1 {flag} {c}{flag}",
                  f"ExecStart=/c {flag} {flag}=a {flag}{c}=b {flag}"]
        for line in lines:
            service = line if "[Service]" in line else f"[Service]\n{line}\n"
            yield two_files(f'{{"exec-opts": ["{DRIVER_KEY}=systemd"]}}', service, unit)


# daemon_json's host runs the docker group, and with it the two it needs, system and cgroups
# (src/facts/mod.rs), on the input's files: every file those read is the input's to give,
# though no seed gave one. Session 16's run 3 found, at 8.0 million executions, the branch for
# an /etc/os-release that is not there and a /usr/lib/os-release that is; uncovered.py showed
# hundreds more such edges in system.rs and cgroups.rs. Written out: each of those files (and
# the docker group's own paths) absent, a directory, a device, a link loop, not UTF-8 and
# empty; its contents in each form its reader tells apart; the fallback pairs (os-release,
# hostname) in each combination; each fixture host's node files together; and the seeds and
# committed corpora of the targets that fuzz the cgroup files alone (proc_mounts, mountinfo,
# proc_cgroups), put where those targets put them. Over daemon_json's committed corpus they
# take start-up coverage from 2,035 edges to 2,576 (hardening.md, Session 16).
DAEMON = f'{{"exec-opts": ["{DRIVER_KEY}=systemd"]}}\n'
ABSENT = "-> /absent"
BROKEN = [ABSENT, "-> /dev/null", "-> /dev", b"\xff\xfe\n", b""]
NODE_CONTENTS = {
    "/proc/1/comm": [b"systemd\n", b"init\n", b" systemd \n", b"\n"],
    "/proc/swaps": [b"Filename\tType\tSize\tUsed\tPriority\n",
                    b"Filename\tType\tSize\tUsed\tPriority\n/swap.img file 4194300 0 -2\n"
                    b"/dev/dm-1 partition 1000 0 -3\n",
                    b"Filename\n\n   \n", b"/dev/sda2 partition 1 0 -1\n"],
    "/proc/cpuinfo": [b"processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\n",
                      b"processor:0\n", b" processor \t: 7\n", b"model name\t: x\n",
                      b"processor\n", b":\n", b"processors\t: 1\n"],
    "/proc/meminfo": [b"MemTotal:        8142948 kB\n", b"MemFree: 1 kB\nMemTotal: 1023 kB\n",
                      b"MemTotal: 2048 MB\n", b"MemTotal: x kB\n", b"MemTotal:\n",
                      b"MemTotal: 5\n", b"MemTotal: -4096 kB\n",
                      b"MemTotal: 99999999999999999999 kB\n", b"MemTotal:\t1\tkB\textra\n",
                      b"MemFree: 1 kB\n", b"MemTotal: 1 kb\n", b"MemTotal: 1 KB\n",
                      b"MemTotal: 1 k\n", b"MemTotal: 1 kBB\n", b"MemTotal: 1 B\n"],
    "/proc/sys/kernel/hostname": [b"node-1\n"],
    "/etc/hostname": [b"node-1\n"],
    "/etc/os-release": [
        b'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian 12"\n',
        b"ID='rhel'\nVERSION_ID='9.4'\nPRETTY_NAME='Red Hat'\n", b"ID=\nVERSION_ID=\"\n",
        b"  ID=ubuntu  \nVERSION_ID=\"24.04\nPRETTY_NAME='x\"\n", b"IDX=1\nID\n# ID=no\n",
        b"NAME=x\n"],
}
NODE_CONTENTS["/usr/lib/os-release"] = NODE_CONTENTS["/etc/os-release"]
# MemTotal's number as `i64::from_str` reads it (std's code, instantiated in the crate): signs,
# each length to the limits and past them, and bytes that are not digits at each place.
INTEGERS = ["+1", "-1", "+", "-", "+-1", "-+1", "00", "0" * 25 + "7", "9" * 18, "1" + "0" * 18,
            "9223372036854775807", "9223372036854775808", "-9223372036854775808",
            "-9223372036854775809", "99999999999999999999", "1a", "a1", "1/", "1:", "1\u0661",
            "\u0661", "1_000", "1.5", "1e3", "0x10"]
NODE_CONTENTS["/proc/meminfo"] += [f"MemTotal: {n} kB\n".encode() for n in INTEGERS]
NODE_CONTENTS["/proc/meminfo"] += [f"MemTotal: {'1' * k} kB\n".encode() for k in range(1, 21)]
HOSTNAMES = ["fuzz-node", "Fuzz-Node", "node_1", "a" * 63, "a" * 64,
             ".".join(["a" * 63] * 4), ".".join(["a" * 50] * 5), "-a", "a-", "a..b", "a.", ".a",
             "ok.example.com", "1.2.3.4", "xn--bcher-kva.example", "n\u00f6de", "a b", "\t a \t"]
# The node files of a fixture host, each host's together.
HOST_NODE_FILES = ["proc/1/comm", "run/systemd/system", "run/systemd/system/*", "proc/swaps",
                   "proc/cpuinfo", "proc/meminfo", "etc/os-release", "usr/lib/os-release",
                   "proc/sys/kernel/hostname", "etc/hostname", "proc/mounts",
                   "proc/self/mountinfo", "proc/cgroups", "sys/fs/cgroup/*"]
# src/facts/docker.rs's binaries, sockets and unit directories.
DOCKER_PATHS = ["/usr/bin/dockerd", "/usr/local/bin/dockerd", "/run/docker.sock",
                "/var/run/docker.sock", "/run/cri-dockerd.sock", "/var/run/cri-dockerd.sock"]
UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
             "/usr/lib/systemd/system", "/lib/systemd/system"]
# cgroup.controllers: sorted and deduplicated with the implicit devices and freezer, so
# duplicates and long lists in each order too.
CONTROLLER_NAMES = [f"c{i:02d}" for i in range(40)]
CGROUP_CONTROLLERS = [b"", b"\n", b"cpuset cpu io memory hugetlb pids rdma misc\n",
                      b"cpu memory\n", b"  cpuset\tcpu  io memory pids \n", b"cpu\ncpuset\n",
                      b"cpu cpu memory memory\n", b"devices freezer cpu devices\n",
                      b"pids pids pids\n", b"memory cpu cpu io cpuset io pids freezer\n"] + [
    " ".join(order).encode() + b"\n" for n in (10, 19, 20, 21, 40)
    for order in (CONTROLLER_NAMES[:n], CONTROLLER_NAMES[:n][::-1],
                  CONTROLLER_NAMES[:n] + CONTROLLER_NAMES[:n][::2])]
# src/fuzzing.rs's V1_MOUNTS: where the proc_cgroups target reads /proc/cgroups.
V1_MOUNTS = (b"tmpfs /sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,mode=755 0 0\n"
             b"cgroup /sys/fs/cgroup/cpu,cpuacct cgroup "
             b"rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0\n"
             b"cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
             b"cgroup /sys/fs/cgroup/pids cgroup rw,nosuid,nodev,noexec,relatime,pids 0 0\n")


def node_files(*files, first=DAEMON):
    """daemon.json, then each (path, bytes, or "-> target" for a link) after its mark."""
    return multi(first.encode(), [
        (path, ("link", value.removeprefix("-> ")) if isinstance(value, str) else ("file", value))
        for path, value in files])


def broken(path):
    """`path` absent, a link to a device or a directory, a loop, not UTF-8, empty, and a
    directory itself."""
    for form in BROKEN + [f"-> {path}"]:
        yield (path, form)
    yield (f"{path}/x", b"")


# The commit of the cgroup targets' corpora that daemon_node gives daemon_json: the last
# to change them (their campaigns had plateaued). Pinned, like KUBELET_CORPUS_AT, so that
# the seeds do not change if those corpora ever do.
CGROUP_CORPORA_AT = "5ef471f0c040049844cf0e83635b2d74e1b34e7b"


def daemon_node():
    mounts = list(seeds_of("proc_mounts"))
    for path, contents in NODE_CONTENTS.items():
        for file in broken(path):
            yield node_files(file)
        for text in contents:
            yield node_files((path, text))
    for name in HOSTNAMES:
        for end in ("\n", "", "\n\n"):
            yield node_files(("/proc/sys/kernel/hostname", (name + end).encode()))
    yield node_files(("/run/systemd/system", b""))
    for file in [*broken("/run/systemd/system"), ("/proc/1/comm", ABSENT)]:
        yield node_files(file, ("/run/systemd/system", ABSENT))
    # The fallbacks: the first path in each form, the second in each.
    for first_path, second_path, good in (
            ("/etc/os-release", "/usr/lib/os-release", NODE_CONTENTS["/etc/os-release"][0]),
            ("/proc/sys/kernel/hostname", "/etc/hostname", b"node-2\n")):
        firsts = list(broken(first_path)) + [(first_path, b" \n\t")]
        seconds = list(broken(second_path)) + [(second_path, good), (second_path, b"\n")]
        for first in firsts:
            for second in seconds:
                yield node_files(first, second)
    for host in sorted(os.listdir(HOSTS)):
        files = host_files(host, HOST_NODE_FILES)
        if files:
            yield multi(DAEMON.encode(), files)
    # dockerd's default driver (daemon.json without exec-opts) on each cgroup mode, booted
    # with systemd and not, and with either unknown.
    for data in [*mounts, b"\xff\n"]:
        for systemd in ("-> /run/systemd/system", ABSENT, "-> /dev", b""):
            for daemon in ("{}\n", '{"exec-opts": []}\n', '{"exec-opts": ["a=b"]}\n'):
                yield node_files(("/proc/mounts", data), ("/run/systemd/system", systemd),
                                 first=daemon)
    # Longer lists on the base node (cgroup v2): std's stable sort, by length and pattern
    # (runs, reversed runs, many equal names).
    for n in (64, 100, 200, 500, 1000):
        names = [f"c{i:04d}" for i in range(n)]
        shuffled = list(names)
        random.Random(n).shuffle(shuffled)
        for order in (names, names[::-1], shuffled, ["cpu"] * n, ["cpu", "io"] * (n // 2),
                      names[: n // 2][::-1] + names[n // 2:], [names[i % 7] for i in range(n)],
                      [shuffled[i % (n // 10)] for i in range(n)]):
            yield node_files(("/sys/fs/cgroup/cgroup.controllers", " ".join(order).encode()))
    for data in mounts:
        for controllers in [*CGROUP_CONTROLLERS, ABSENT]:
            yield node_files(("/sys/fs/cgroup/cgroup.controllers", controllers),
                             ("/proc/mounts", data))
    # The cgroup targets' seeds, and their committed corpora: what their campaigns found in
    # the cgroup gatherer until they plateaued (on the same code), given to daemon_json at once.
    for data in [*mounts, *committed_at(CGROUP_CORPORA_AT, "proc_mounts")]:
        yield node_files(("/proc/mounts", data))
    for data in [*seeds_of("mountinfo"), *committed_at(CGROUP_CORPORA_AT, "mountinfo")]:
        yield node_files(("/proc/mounts", ABSENT), ("/proc/self/mountinfo", data))
    for data in [*seeds_of("proc_cgroups"), *committed_at(CGROUP_CORPORA_AT, "proc_cgroups")]:
        yield node_files(("/proc/mounts", V1_MOUNTS), ("/proc/cgroups", data))
    for file in broken("/proc/mounts"):
        yield node_files(file)
        yield node_files(file, ("/proc/self/mountinfo", ABSENT))
    for file in broken("/proc/cgroups"):
        yield node_files(("/proc/mounts", V1_MOUNTS), file)
    # The docker group's own paths in the same forms: the binaries and sockets it looks for,
    # and cri-docker.service and a drop-in of it in each unit directory (a link to /dev/null
    # masks the unit).
    exec_start = b"[Service]\nExecStart=/usr/bin/cri-dockerd --pod-infra-container-image=p:1\n"
    for path in DOCKER_PATHS:
        for file in broken(path):
            yield node_files(file)
    for unit_dir in UNIT_DIRS:
        service = f"{unit_dir}/cri-docker.service"
        for file in [*broken(service), (service, exec_start)]:
            yield node_files(file)
            yield node_files(file, (f"{service}.d/10-x.conf", exec_start))
        for file in broken(f"{service}.d/10-x.conf"):
            yield node_files(file)
        yield node_files((f"{service}.d", "-> /dev/null"))
        yield node_files((f"{service}.d", b""))


# kubelet_config's keys in each of YAML's forms. What its runs 3 and 4 still found, one edge
# per doubling of executions, was serde-saphyr's code for keys: keys compared for duplicates
# by their fingerprint (a tag, a quoting, an alias against a plain key), an alias in a key,
# a tagged key (`!!binary`), an error in a key of KubeletDoc, and the keys of a mapping
# inside an ignored value. Each form at each place a key is read, and each pair of forms of
# one name in one mapping (duplicates of every kind), is a finite set; written out, it is in
# the corpus from the start (hardening.md, Session 19).
# Keys that are not the name: null, empty, numbers (a legacy octal too), bools, collections,
# other tags, an alias to nothing, an alias to a collection, invalid base64.
KEY_OTHER_FORMS = ["~", "null", "''", "1", "017", "0o17", "0x1f", "true", "1.5", "[a]",
                   "{a: 1}", "!!int 1", "!!null ''", "!!binary '@@'", "*undefined", "*c",
                   "? [a, b]", "? {a: 1}", "? |\n  block", "[*v]", "&k [a]"]
# A merge key's values: an alias to a mapping holding the name, a list of them (the same one
# twice too), a mapping, one that merges again, one with the name twice, one holding the
# nested struct, empty ones, and values a merge cannot take. The forms of the name as the
# key of a merged mapping are added to these.
MERGE_VALUES = ["*m", "[*m, {{{n}: b}}]", "[*m, *m]", "{{{n}: b}}", "{{<<: *m}}",
                "{{<<: {{{n}: c}}, {n}: b}}", "{{{n}: a, {n}: b}}",
                "{{memorySwap: {{swapBehavior: a}}}}", "&n {{{n}: b}}", "{{}}", "[]", "[{{}}]",
                "1", "*v", "[1]", "*c", "~", "[*m, 1]", "[*undefined]"]
KEY_VALUES = ["systemd", "[a]", "*v", "{swapBehavior: a}"]
# Where a key is read, and the field name read there (an ignored mapping has none: any): at
# the top a string field and the nested struct's.
KEY_PLACES = [("top", "cgroupDriver"), ("top", "memorySwap"), ("memorySwap", "swapBehavior"),
              ("ignored", "cgroupDriver"), ("ignored list", "cgroupDriver"),
              ("flow", "swapBehavior")]


def key_forms(name):
    """name as a key in each of YAML's forms: plain, quoted both ways, escaped (quoted's
    Escaped), tagged (`!!str`, a verbatim tag, a local tag, `!!binary` of its bytes),
    anchored (&k), the alias to that anchor, and explicit (`? `), plain and tagged."""
    b64 = base64.b64encode(name.encode()).decode()
    return [name, f"'{name}'", quoted(name), quoted(Escaped(name)), f"!!str {name}",
            f"!<tag:yaml.org,2002:str> {name}", f"!local {name}", f"!!binary {b64}",
            f"&k {name}", "*k", f"? {name}", f"? !!str {name}"]


def key_entry(key, value, flow):
    """One mapping entry: an alias key needs a space before its colon (a colon can be part
    of an anchor's name), an explicit key (`? `) its value on a line of its own."""
    if flow:
        return f"{key.replace(chr(10), ' ')} : {value}"
    if key.startswith("? "):
        return f"{key}\n: {value}\n"
    return f"{key}{' :' if key.startswith('*') else ':'} {value}\n"


def key_document(place, name, entries):
    """A KubeletConfiguration with the anchors the forms use (v a scalar, m a mapping of the
    name, c a list) and entries, [(key, value)], in the mapping at place."""
    head = (f"kind: KubeletConfiguration\nanchors: [&v systemd, &m {{{name}: cgroupfs}}, "
            "&c [a]]\n")
    if place == "flow":
        return head + "memorySwap: {" + ", ".join(
            key_entry(k, v, True) for k, v in entries) + "}\n"
    body = "".join(key_entry(k, v, False) for k, v in entries)
    if place == "top":
        return head + body
    body = "".join("  " + line + "\n" for line in body.splitlines())
    if place == "ignored list":
        return head + "extra:\n-\n" + body
    return head + ("memorySwap" if place == "memorySwap" else "extra") + ":\n" + body


def kubelet_keys():
    for place, name in KEY_PLACES:
        forms = key_forms(name)
        for key in forms + KEY_OTHER_FORMS:
            for value in KEY_VALUES:
                yield key_document(place, name, [(key, value)])
        merged = [value.format(n=name) for value in MERGE_VALUES]
        merged += ["{" + key_entry(key, "b", True) + "}" for key in forms]
        for value in merged:
            yield key_document(place, name, [("<<", value)])
            yield key_document(place, name, [(name, "a"), ("<<", value)])
        # Each pair of forms of the name, in both orders (an alias before its anchor is an
        # error of its own), and each other form twice: duplicates of every kind.
        for first in forms:
            for second in forms:
                yield key_document(place, name, [(first, "a"), (second, "b")])
        for key in KEY_OTHER_FORMS:
            yield key_document(place, name, [(key, "a"), (key, "b")])


# The commit of kubelet_config's corpus that kubelet_nested nests: its run 4 merged. Pinned,
# so that the seeds stay the same while later runs add to the corpus.
KUBELET_CORPUS_AT = "816dc75af997403d076cb7a15f36619412f8b899"


def committed_at(commit, target):
    """The inputs of a target's corpus as committed at commit, in name order."""
    folder = f"fuzz/corpus/{target}/"
    names = subprocess.run(["git", "-C", REPO, "ls-tree", "--name-only", commit, folder],
                           capture_output=True, check=True, text=True).stdout.split()
    blobs = subprocess.run(["git", "-C", REPO, "cat-file", "--batch"], check=True,
                           input="".join(f"{commit}:{name}\n" for name in names).encode(),
                           capture_output=True).stdout
    # Each blob is a header line (`<id> blob <size>`), its bytes and a line end.
    at = 0
    while at < len(blobs):
        header_end = blobs.index(b"\n", at)
        size = int(blobs[at:header_end].split()[2])
        yield blobs[header_end + 1:header_end + 1 + size]
        at = header_end + 1 + size + 1


def kubelet_nested():
    """Each input of kubelet_config's pinned corpus with its config file nested, indented,
    under memorySwap and under an ignored key. serde derives a visitor per struct, and serde-
    saphyr's key code is generic over it, so the runs' work on KubeletDoc's keys (58 million
    executions) is code of its own in MemorySwap's and IgnoredAny's, which their run 5 was
    finding one path at a time (hardening.md, Session 19)."""
    for data in committed_at(KUBELET_CORPUS_AT, "kubelet_config"):
        config = first_file(data)
        rest = data[len(config):]
        body = b"".join(b"  " + line for line in config.splitlines(keepends=True))
        if not body.endswith(b"\n"):
            body += b"\n"
        for key in (b"memorySwap", b"extra"):
            yield b"kind: KubeletConfiguration\n" + key + b":\n" + body + rest


def main():
    toml_docs = {t: list(parsed(t, tomllib.loads)) for t in ("containerd_config", "crio_config")}
    counts = {t: toml_target(t, docs) for t, docs in toml_docs.items()}
    merges = write("containerd_config", containerd_merges(toml_docs["containerd_config"]),
                   prefix="merge-")
    counts["kubelet_config"] = write("kubelet_config", (
        yaml_doc(v).encode() for d in parsed("kubelet_config", kubelet_docs)
        for v in variants(d, YAML_SAMPLES)))
    counts["daemon_json"] = write("daemon_json", (
        json_value(v).encode() for d in parsed("daemon_json", json.loads)
        if isinstance(d, dict) for v in variants(d, JSON_SAMPLES)))
    counts["docker_http"] = write("docker_http", docker_http())
    for target, n in counts.items():
        print(f"{target}: {n} type-confusion seeds")
    shapes = write("containerd_config", (*containerd_nested(), *containerd_migrations(),
                                         *containerd_big_tables(), *containerd_clones()),
                   prefix="shape-")
    keys = write("kubelet_config", (d.encode() for d in kubelet_keys()), prefix="key-")
    print(f"kubelet_config: {keys} seeds of keys in each of YAML's forms")
    nested = write("kubelet_config", kubelet_nested(), prefix="nest-")
    print(f"kubelet_config: {nested} seeds of its corpus nested in a struct and an ignored "
          "value")
    print(f"containerd_config: {merges} seeds of imported files' arrays")
    print(f"containerd_config: {shapes} seeds of nested arrays, CRI sections to migrate "
          "and big tables")
    opts = write("daemon_json", (*daemon_exec_opts(), *daemon_big_objects(), *docker_units()),
                 prefix="opts-")
    print(f"daemon_json: {opts} seeds of exec-opts, big objects and cri-docker.service's "
          "ExecStart")
    node = write("daemon_json", daemon_node(), prefix="node-")
    print(f"daemon_json: {node} seeds of the node's system, cgroup and docker files")


def docker_http():
    """Each of the two answers' JSON bodies varied, the other kept as it was."""
    for data in seeds_of("docker_http"):
        parts = data.split(PART)
        if len(parts) != 2:
            continue
        bodies = []
        for part in parts:
            try:
                bodies.append(json.loads(part.split(b"\r\n\r\n", 1)[1]))
            except (IndexError, ValueError):
                break
        if len(bodies) != 2 or not all(isinstance(b, dict) for b in bodies):
            continue
        kept = [json.dumps(b).encode() for b in bodies]
        for which, body in enumerate(bodies):
            for v in variants(body, JSON_SAMPLES):
                answers = list(kept)
                answers[which] = json_value(v).encode()
                yield PART.join(answer(b) for b in answers)


if __name__ == "__main__":
    main()
