"""ffmpeg and ffprobe (Debian's packages: scripts/bootstrap.sh --system, the Dockerfile): what a file
holds, which renditions to make of it, and encoding one rendition into AES-128 encrypted HLS while
reporting progress (ffmpeg's `-progress` output). No database here: `courses.media.transcode` drives it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

SEGMENT_SECONDS = 4
PLAYLIST = "index.m3u8"
MASTER = "master.m3u8"
KEY_URI_PLACEHOLDER = "key"  # replaced by the signed key URL when a playlist is served
ERROR_TAIL_CHARS = 1500


class MediaError(Exception):
    """A transcoding problem; `str()` is what the operator reads in admin."""


class InvalidMedia(MediaError):
    """The upload is not audio or video ffprobe can read: retrying cannot help."""


class TranscodeFailed(MediaError):
    """ffmpeg failed on a file it could read (out of disk, killed, a broken stream): worth a retry."""


@dataclass(frozen=True)
class Probe:
    duration: float
    width: int
    height: int
    has_video: bool
    has_audio: bool


@dataclass(frozen=True)
class Rendition:
    name: str
    height: int  # 0: audio only
    video_kbps: int
    audio_kbps: int

    @property
    def bandwidth(self) -> int:
        """Peak bits per second for the master playlist (the encoder's cap plus container overhead)."""
        return int((self.video_kbps * 1.5 + self.audio_kbps) * 1000 * 1.1)

    def width_for(self, probe: Probe) -> int:
        if not self.height or not probe.height:
            return 0
        return max(2, round(probe.width * self.height / probe.height / 2) * 2)


VIDEO_LADDER = (Rendition("360p", 360, 800, 96), Rendition("720p", 720, 2800, 128))
AUDIO_RENDITION = Rendition("audio", 0, 0, 128)


def available() -> bool:
    return (
        shutil.which(settings.MEDIA_FFMPEG) is not None and shutil.which(settings.MEDIA_FFPROBE) is not None
    )


def _tail(text: str) -> str:
    text = text.strip()
    return text[-ERROR_TAIL_CHARS:] if len(text) > ERROR_TAIL_CHARS else text


def probe(path: Path) -> Probe:
    try:
        result = subprocess.run(
            [
                settings.MEDIA_FFPROBE,
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except FileNotFoundError as exc:
        raise TranscodeFailed(
            f"ffprobe not found ({settings.MEDIA_FFPROBE}): install Debian's ffmpeg"
        ) from exc
    if result.returncode != 0:
        raise InvalidMedia(f"ffprobe: {_tail(result.stderr) or 'unreadable file'}")
    info = json.loads(result.stdout or "{}")
    streams = info.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video" and not _is_cover_art(s)), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    try:
        duration = float(info.get("format", {}).get("duration") or 0)
    except ValueError:
        duration = 0.0
    if (video is None and audio is None) or duration <= 0:
        raise InvalidMedia("ffprobe: no audio or video stream with a duration")
    return Probe(
        duration=duration,
        width=int(video.get("width") or 0) if video else 0,
        height=int(video.get("height") or 0) if video else 0,
        has_video=video is not None,
        has_audio=audio is not None,
    )


def _is_cover_art(stream: dict) -> bool:
    """An MP3's or M4A's embedded picture shows up as a one-frame video stream."""
    return bool(stream.get("disposition", {}).get("attached_pic"))


def ladder(*, audio_only: bool, probe: Probe) -> list[Rendition]:
    """360p and 720p for video, never upscaled beyond the source (a smaller source gets one rendition at
    its own height); one AAC rendition for audio."""
    if audio_only or not probe.has_video:
        if not probe.has_audio:
            raise InvalidMedia("no audio stream to make an audio rendition of")
        return [AUDIO_RENDITION]
    fitting = [r for r in VIDEO_LADDER if r.height <= probe.height]
    if fitting:
        return fitting
    height = max(2, probe.height // 2 * 2)
    return [Rendition(f"{height}p", height, 500, 96)]


def encode(
    *,
    source: Path,
    rendition: Rendition,
    probe: Probe,
    out_dir: Path,
    key_info: Path,
    on_progress: Callable[[float], None],
) -> None:
    """One rendition as `out_dir/index.m3u8` and encrypted `seg_NNNN.ts` segments; `on_progress(0..1)`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [settings.MEDIA_FFMPEG, "-hide_banner", "-nostdin", "-y", "-i", str(source)]
    if rendition.height:
        command += ["-map", "0:v:0", "-map", "0:a:0?"]
        command += [
            "-vf",
            f"scale=-2:{rendition.height}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-profile:v",
            "main",
            "-pix_fmt",
            "yuv420p",
            "-b:v",
            f"{rendition.video_kbps}k",
            "-maxrate",
            f"{int(rendition.video_kbps * 1.5)}k",
            "-bufsize",
            f"{rendition.video_kbps * 2}k",
            # a key frame at every segment boundary, so every rendition switches cleanly
            "-force_key_frames",
            f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
            "-sc_threshold",
            "0",
        ]
    else:
        command += ["-map", "0:a:0", "-vn"]
    command += ["-c:a", "aac", "-b:a", f"{rendition.audio_kbps}k", "-ac", "2"]
    command += [
        "-f",
        "hls",
        "-hls_time",
        str(SEGMENT_SECONDS),
        "-hls_playlist_type",
        "vod",
        "-hls_key_info_file",
        str(key_info),
        "-hls_segment_filename",
        str(out_dir / "seg_%04d.ts"),
        "-progress",
        "pipe:1",
        "-nostats",
        str(out_dir / PLAYLIST),
    ]
    with tempfile.TemporaryFile(mode="w+") as errors:
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        except FileNotFoundError as exc:
            raise TranscodeFailed(
                f"ffmpeg not found ({settings.MEDIA_FFMPEG}): install Debian's ffmpeg"
            ) from exc
        assert process.stdout is not None
        for line in process.stdout:
            seconds = progress_seconds(line)
            if seconds is not None and probe.duration > 0:
                on_progress(min(1.0, seconds / probe.duration))
        code = process.wait()
        if code != 0:
            errors.seek(0)
            raise TranscodeFailed(f"ffmpeg ({rendition.name}) exited {code}: {_tail(errors.read())}")
    if not (out_dir / PLAYLIST).exists():
        raise TranscodeFailed(f"ffmpeg ({rendition.name}) wrote no playlist")


def progress_seconds(line: str) -> float | None:
    """Seconds of output written so far, from one line of ffmpeg's `-progress` output
    (`out_time_us=12345678`; `out_time_ms` is microseconds too, an old ffmpeg misnomer)."""
    name, _sep, value = line.strip().partition("=")
    if name not in ("out_time_us", "out_time_ms"):
        return None
    try:
        return max(0, int(value)) / 1_000_000
    except ValueError:
        return None  # "N/A" before the first frame


def master_playlist(renditions: list[Rendition], probe: Probe) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for rendition in renditions:
        attributes = f"BANDWIDTH={rendition.bandwidth}"
        if rendition.height:
            attributes += f",RESOLUTION={rendition.width_for(probe)}x{rendition.height}"
        else:
            attributes += ',CODECS="mp4a.40.2"'
        lines += [f"#EXT-X-STREAM-INF:{attributes}", f"{rendition.name}/{PLAYLIST}"]
    return "\n".join(lines) + "\n"


def write_key_info(*, directory: Path, key: bytes) -> Path:
    """ffmpeg's -hls_key_info_file: the URI written into the playlists (a placeholder the views replace
    with the signed key URL) and the key file; no IV line, so each segment's IV is its sequence number."""
    key_file = directory / "media.key"
    key_file.write_bytes(key)
    key_file.chmod(0o600)
    info = directory / "media.keyinfo"
    info.write_text(f"{KEY_URI_PLACEHOLDER}\n{key_file}\n")
    return info
