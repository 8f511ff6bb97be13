#!/usr/bin/env python3
"""Writes the bad-input corpus (tests/corpus/bad/, with EXPECTED: file -> status) and the
fuzzing seeds (tests/fuzz/seeds/). Plain python3, no third-party modules. Rerun after editing;
the outputs are committed so that `make test` needs no Python."""
import json, os, shutil, struct

here = os.path.dirname(os.path.abspath(__file__))
bad_dir = os.path.join(here, "bad")
seed_dir = os.path.join(here, "..", "fuzz", "seeds")

def st(header, data=b"", pad=True, raw_header=None):
    """a safetensors image: 8-byte little-endian length, header, data"""
    h = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    if pad and raw_header is None:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data

def f32(*v):
    return struct.pack("<%df" % len(v), *v)

ok_hdr = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
ok = st(ok_hdr, f32(1, 2))

cases = []  # (file name, bytes, expected status)
def add(name, data, status):
    cases.append((name, data, status))

# ---- safetensors
add("st_empty.safetensors", b"", "LVS_ERR_ST_TOO_SMALL")
add("st_5_bytes.safetensors", b"\x08\x00\x00\x00\x00", "LVS_ERR_ST_TOO_SMALL")
add("st_truncated_data.safetensors", ok[:-3], "LVS_ERR_ST_BOUNDS")
add("st_truncated_header.safetensors", ok[:20], "LVS_ERR_ST_HEADER_LENGTH")
add("st_header_len_beyond_file.safetensors", struct.pack("<Q", 4096) + b"{}", "LVS_ERR_ST_HEADER_LENGTH")
add("st_header_len_max_u64.safetensors", b"\xff" * 8 + b"{}", "LVS_ERR_ST_HEADER_TOO_LARGE")
add("st_header_over_100mb.safetensors", struct.pack("<Q", 100000001) + b"{}      ", "LVS_ERR_ST_HEADER_TOO_LARGE")
add("st_header_array.safetensors", st(None, raw_header=b"[1,2]   "), "LVS_ERR_ST_HEADER")
add("st_header_string.safetensors", st(None, raw_header=b'"hello" '), "LVS_ERR_ST_HEADER")
add("st_header_not_json.safetensors", st(None, raw_header=b'{"a":   '), "LVS_ERR_JSON_SYNTAX")
add("st_header_trailing_garbage.safetensors", st(None, raw_header=b"{}x     "), "LVS_ERR_JSON_SYNTAX")
add("st_unknown_dtype.safetensors", st({"a": {"dtype": "F128", "shape": [2], "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_ST_DTYPE")
add("st_dtype_not_string.safetensors", st({"a": {"dtype": 4, "shape": [2], "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_ST_HEADER")
add("st_negative_shape.safetensors", st({"a": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_ST_SHAPE")
add("st_float_shape.safetensors", st({"a": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_ST_SHAPE")
add("st_string_shape.safetensors", st({"a": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_ST_SHAPE")
add("st_shape_not_array.safetensors", st({"a": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_ST_SHAPE")
add("st_huge_shape_overflow.safetensors", st({"a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_ST_OVERFLOW")
add("st_size_overflow_dtype.safetensors", st({"a": {"dtype": "F64", "shape": [2**62], "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_ST_OVERFLOW")
add("st_shape_beyond_u64.safetensors", st(None, raw_header=b'{"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}}'), "LVS_ERR_ST_SHAPE")
add("st_nine_dims.safetensors", st({"a": {"dtype": "F32", "shape": [1] * 8 + [2], "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_UNSUPPORTED")
add("st_overlapping.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32(1, 2, 3)), "LVS_ERR_ST_OFFSETS")
add("st_gap.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                              "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}}, f32(1, 2, 3, 4, 5)), "LVS_ERR_ST_OFFSETS")
add("st_reversed_offsets.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, f32(1, 2)), "LVS_ERR_ST_OFFSETS")
add("st_not_from_zero.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32(0, 1, 2)), "LVS_ERR_ST_OFFSETS")
add("st_size_mismatch.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 12]}}, f32(1, 2, 3)), "LVS_ERR_ST_OFFSETS")
add("st_negative_offset.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}, f32(1, 2)), "LVS_ERR_ST_OFFSETS")
add("st_out_of_file.safetensors", st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32(1, 2)), "LVS_ERR_ST_BOUNDS")
add("st_offset_huge.safetensors", st({"a": {"dtype": "U8", "shape": [2**62], "data_offsets": [0, 2**62]}}, f32(1, 2)), "LVS_ERR_ST_BOUNDS")
add("st_numel_over_int64.safetensors", st({"a": {"dtype": "U8", "shape": [2**63], "data_offsets": [0, 2**63]}}, f32(1, 2)), "LVS_ERR_ST_OVERFLOW")
add("st_trailing_bytes.safetensors", ok + b"\x00\x01", "LVS_ERR_ST_TRAILING")
add("st_offsets_three_items.safetensors", st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8, 8]}}, f32(1, 2)), "LVS_ERR_ST_HEADER")
add("st_missing_offsets.safetensors", st({"a": {"dtype": "F32", "shape": [2]}}, f32(1, 2)), "LVS_ERR_ST_HEADER")
add("st_missing_dtype.safetensors", st({"a": {"shape": [2], "data_offsets": [0, 8]}}, f32(1, 2)), "LVS_ERR_ST_HEADER")
add("st_entry_not_object.safetensors", st({"a": [0, 8]}, f32(1, 2)), "LVS_ERR_ST_HEADER")
add("st_duplicate_names.safetensors", st(None, raw_header=b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                             b'"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}') + f32(1, 2), "LVS_ERR_JSON_DUPLICATE_KEY")
add("st_invalid_utf8_name.safetensors", st(None, raw_header=b'{"a\xff":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}') + f32(1, 2), "LVS_ERR_JSON_UTF8")
add("st_nul_in_name.safetensors", st(None, raw_header=b'{"a\\u0000b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}') + f32(1, 2), "LVS_ERR_ST_HEADER")
add("st_metadata_not_object.safetensors", st({"__metadata__": "pt", **ok_hdr}, f32(1, 2)), "LVS_ERR_ST_METADATA")
add("st_metadata_non_string.safetensors", st({"__metadata__": {"format": 1}, **ok_hdr}, f32(1, 2)), "LVS_ERR_ST_METADATA")
add("st_metadata_nested.safetensors", st({"__metadata__": {"a": {"b": "c"}}, **ok_hdr}, f32(1, 2)), "LVS_ERR_ST_METADATA")
add("st_header_value_flood.safetensors", st(None, raw_header=b'{"a":[' + b"0," * 5000 + b'0]}'), "LVS_ERR_UNSUPPORTED")
add("st_deep_nesting.safetensors", st(None, raw_header=b"[" * 100000 + b"]" * 100000), "LVS_ERR_JSON_DEPTH")

# ---- JSON
add("json_empty.json", b"", "LVS_ERR_JSON_SYNTAX")
add("json_nesting_100000_arrays.json", b"[" * 100000 + b"]" * 100000, "LVS_ERR_JSON_DEPTH")
add("json_nesting_100000_objects.json", b'{"a":' * 100000 + b"1" + b"}" * 100000, "LVS_ERR_JSON_DEPTH")
add("json_duplicate_keys.json", b'{"hidden_size": 64, "hidden_size": 128}', "LVS_ERR_JSON_DUPLICATE_KEY")
add("json_overlong_utf8.json", b'{"a": "\xc0\xaf"}', "LVS_ERR_JSON_UTF8")
add("json_utf8_surrogate.json", b'{"a": "\xed\xa0\x80"}', "LVS_ERR_JSON_UTF8")
add("json_utf8_truncated.json", b'{"a": "\xe2\x82"}', "LVS_ERR_JSON_UTF8")
add("json_lone_surrogate_escape.json", b'{"a": "\\ud800"}', "LVS_ERR_JSON_STRING")
add("json_bad_escape.json", b'{"a": "\\q"}', "LVS_ERR_JSON_STRING")
add("json_control_char.json", b'{"a": "x\x01y"}', "LVS_ERR_JSON_STRING")
add("json_trailing_comma.json", b'{"a": 1,}', "LVS_ERR_JSON_SYNTAX")
add("json_leading_zero.json", b'{"a": 012}', "LVS_ERR_JSON_SYNTAX")
add("json_nan.json", b'{"a": NaN}', "LVS_ERR_JSON_SYNTAX")
add("json_number_overflow.json", b'{"a": 1e999}', "LVS_ERR_JSON_NUMBER")
add("json_unterminated_string.json", b'{"a": "abc', "LVS_ERR_JSON_SYNTAX")
add("json_bom.json", b'\xef\xbb\xbf{"a": 1}', "LVS_ERR_JSON_SYNTAX")
add("json_single_quotes.json", b"{'a': 1}", "LVS_ERR_JSON_SYNTAX")
add("json_comment.json", b'{"a": 1 /* c */}', "LVS_ERR_JSON_SYNTAX")
add("json_two_values.json", b'{"a": 1} {"b": 2}', "LVS_ERR_JSON_SYNTAX")
add("json_truncated.json", b'{"a": [1, 2', "LVS_ERR_JSON_SYNTAX")

if os.path.isdir(bad_dir):
    shutil.rmtree(bad_dir)
os.makedirs(bad_dir)
with open(os.path.join(bad_dir, "EXPECTED"), "w") as f:
    f.write("# file -> the status lvs.h must return (written by make_corpus.py)\n")
    for name, data, status in cases:
        with open(os.path.join(bad_dir, name), "wb") as g:
            g.write(data)
        f.write("%s %s\n" % (name, status))

# ---- fuzzing seeds: valid inputs plus the small bad ones
seeds = {
    "json": [b'{"a": [1, -2.5e-3, true, false, null, "x\\u00e9\\ud83d\\ude00"], "b": {}}',
             b'{"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "rope_scaling": {"rope_type": "llama3", "factor": 8.0}}',
             b'[0, 18446744073709551615, -9223372036854775808, 1e308, "\\n\\t\\"\\\\"]'],
    "safetensors": [ok, st({}), st({"__metadata__": {"format": "pt"}}),
                    st({"__metadata__": {"k": "v"},
                        "b": {"dtype": "BF16", "shape": [2, 1], "data_offsets": [0, 4]},
                        "c": {"dtype": "U8", "shape": [3], "data_offsets": [4, 7]},
                        "d": {"dtype": "F16", "shape": [], "data_offsets": [7, 9]},
                        "e": {"dtype": "I64", "shape": [0, 4], "data_offsets": [9, 9]}}, bytes(range(9)))],
}
for kind, items in seeds.items():
    d = os.path.join(seed_dir, kind)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for i, data in enumerate(items):
        with open(os.path.join(d, "valid_%d" % i), "wb") as g:
            g.write(data)
    for name, data, status in cases:
        if name.startswith("st_" if kind == "safetensors" else "json_") and len(data) < 4096:
            with open(os.path.join(d, name), "wb") as g:
                g.write(data)
print("%d bad cases" % len(cases))
