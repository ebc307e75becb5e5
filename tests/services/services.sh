#!/usr/bin/env bash
# Installs (when missing) and starts the services the test suite uses. Sourced by run-tests.sh.
services_start() {
  :
}
services_stop() {
  :
}
