#!/usr/bin/env python3
"""Embeds a text file into C as `const char SYMBOL[]` (used for the OpenAPI document)."""
import argparse
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbol", required=True)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("input")
    args = ap.parse_args()
    data = open(args.input, "rb").read()
    out = [f"/* Generated from {args.input.split('/')[-1]} by scripts/embed_text.py. */\n",
           f"const char {args.symbol}[] = {{\n"]
    for i in range(0, len(data), 16):
        out.append("\t" + ", ".join(str(b) for b in data[i:i + 16]) + ",\n")
    out.append("\t0\n};\n")
    with open(args.output, "w") as f:
        f.writelines(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
