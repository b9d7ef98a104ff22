{
  "targets": [
    {
      "target_name": "tap",
      "sources": ["tap.c", "relay.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
