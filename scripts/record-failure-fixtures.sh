#!/usr/bin/env bash
# Records what real encoders print when they fail (test/fixtures/failures/): a missing file, a
# truncated input, a bad option, a missing or read-only folder, a full tmpfs, a GPU encoder with no
# GPU. Paths are rewritten to /srv/media so the fixtures do not depend on where they were made.
# The classifier's unit test reads them (test/failure-fixtures.test.ts). Needs root (tmpfs mounts).
set -uo pipefail
cd "$(dirname "$0")/.."
out=test/fixtures/failures
mkdir -p "$out"
work=$(mktemp -d)
trap 'umount -l "$work/full" "$work/ro" 2>/dev/null; rm -rf "$work"' EXIT
ffmpeg -loglevel error -y -f lavfi -i testsrc2=duration=2:size=160x120:rate=24 -c:v libx264 -preset ultrafast "$work/ok.mp4"
ffmpeg -loglevel error -y -f lavfi -i testsrc2=duration=1:size=160x120:rate=24 -pix_fmt yuv420p "$work/ok.y4m"
ffmpeg -loglevel error -y -f lavfi -i testsrc2=duration=4:size=320x240:rate=24 -c:v libx264 -preset ultrafast "$work/big.mp4"
head -c 20000 "$work/ok.mp4" > "$work/truncated.mp4"
mkdir -p "$work/full" "$work/ro"
mount -t tmpfs -o size=64k tmpfs "$work/full"
mount -t tmpfs -o size=1m,ro tmpfs "$work/ro"

manifest="$out/manifest.tsv"
printf 'file\tkind\texit\tcommand\n' > "$manifest"
record() {
  local name=$1 kind=$2; shift 2
  local log="$out/$name.log"
  "$@" > "$log.raw" 2>&1 < /dev/null
  local code=$?
  # Progress redraws (\r) as lines, at most 400 kept, the work folder as /srv/media.
  tr '\r' '\n' < "$log.raw" | grep -v '^\s*$' | head -n 400 | sed "s#$work#/srv/media#g" > "$log"
  rm -f "$log.raw"
  printf '%s\t%s\t%s\t%s\n' "$name.log" "$kind" "$code" "$(printf '%s ' "$@" | sed "s#$work#/srv/media#g")" >> "$manifest"
}
record ffmpeg-missing-input input-missing ffmpeg -hide_banner -y -i "$work/nosuch.mp4" "$work/o.mp4"
record ffmpeg-truncated-input corrupt-input ffmpeg -hide_banner -y -i "$work/truncated.mp4" "$work/o.mp4"
record ffmpeg-unknown-encoder unsupported ffmpeg -hide_banner -y -i "$work/ok.mp4" -c:v libnosuch "$work/o.mp4"
record ffmpeg-bad-option unsupported ffmpeg -hide_banner -y -i "$work/ok.mp4" -bogusopt 1 "$work/o.mp4"
record ffmpeg-missing-folder output-unwritable ffmpeg -hide_banner -y -i "$work/ok.mp4" "$work/nosuch-dir/o.mp4"
record ffmpeg-read-only-folder output-unwritable ffmpeg -hide_banner -y -i "$work/ok.mp4" "$work/ro/o.mp4"
record ffmpeg-disk-full disk-full ffmpeg -hide_banner -y -i "$work/big.mp4" -c:v libx264 -preset ultrafast -crf 0 "$work/full/o.mp4"
rm -f "$work/full/"*
record ffmpeg-nvenc-no-gpu hardware-busy ffmpeg -hide_banner -y -i "$work/ok.mp4" -c:v h264_nvenc "$work/o.mp4"
record ffmpeg-vaapi-no-device hardware-busy ffmpeg -hide_banner -y -vaapi_device /dev/dri/renderD199 -i "$work/ok.mp4" -vf format=nv12,hwupload -c:v h264_vaapi "$work/o.mp4"
record x264-missing-input input-missing x264 -o "$work/o.264" "$work/nosuch.y4m"
record x264-bad-option unsupported x264 --bogus 1 -o "$work/o.264" "$work/ok.y4m"
record x264-missing-folder output-unwritable x264 -o "$work/nosuch-dir/o.264" "$work/ok.y4m"
record x265-missing-input input-missing x265 --input "$work/nosuch.y4m" --output "$work/o.hevc"
record x265-bad-option unsupported x265 --bogus --input "$work/ok.y4m" --output "$work/o.hevc"
record x265-missing-folder output-unwritable x265 --input "$work/ok.y4m" --output "$work/nosuch-dir/o.hevc"
record svtav1-missing-input input-missing SvtAv1EncApp -i "$work/nosuch.y4m" -b "$work/o.ivf"
record svtav1-bad-option unsupported SvtAv1EncApp --bogus 1 -i "$work/ok.y4m" -b "$work/o.ivf"
record handbrake-missing-input input-missing HandBrakeCLI -i "$work/nosuch.mp4" -o "$work/o.mp4"
record handbrake-truncated-input corrupt-input HandBrakeCLI -i "$work/truncated.mp4" -o "$work/o.mp4"
record handbrake-missing-folder output-unwritable HandBrakeCLI -i "$work/ok.mp4" -o "$work/nosuch-dir/o.mp4" -e x264
record handbrake-disk-full disk-full HandBrakeCLI -i "$work/big.mp4" -o "$work/full/o.mp4" -e x264 -q 0
echo "recorded $(($(wc -l < "$manifest") - 1)) failures in $out"
