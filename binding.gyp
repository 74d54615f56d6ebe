{
  "targets": [
    {
      "target_name": "posix_spawn",
      "sources": ["native/posix-spawn.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
