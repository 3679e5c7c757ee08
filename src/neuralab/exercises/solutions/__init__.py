"""Reference solutions of the exercises: the tests check that each passes; no command prints one."""
