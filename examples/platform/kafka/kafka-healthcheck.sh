#!/bin/sh
# Exits 0 when the local broker answers on its listener port.
exec nc -z 127.0.0.1 9092
