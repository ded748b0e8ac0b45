"""Protected media: uploaded audio and video transcoded into AES-128 encrypted HLS (`transcode`, run by
`tasks` with ffmpeg: `ffmpeg`), played only by entitled members through playlist and key URLs signed for
them (`signing`, `playback`, `views`), with a visible watermark on the page and in the mini-program.
Operators upload and follow the transcoding in admin (`admin`). docs/architecture.md §8."""
