"""Plain functions that do the work. No request or g inside; they raise domain errors."""
