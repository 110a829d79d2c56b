#!/bin/sh
touch /tmp/mpi-grade-adversarial-wrapper-ran
exec "$@"
