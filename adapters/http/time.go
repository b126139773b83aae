package http

import "time"

func eventstoreTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }
