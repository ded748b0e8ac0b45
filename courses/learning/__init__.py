"""Learning the server vouches for: playback heartbeats, quizzes, homework, course completion and
certificates (docs/architecture.md §8)."""
