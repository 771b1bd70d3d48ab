#!/usr/bin/env bash
# Installs Debian's RabbitMQ server (3.10) when it is missing; the tests of the message bus start it themselves, in the
# foreground, on loopback, with a temporary data directory (test/support/rabbitmq.ts). apt does not start the service
# on these machines, and nothing here does either. Needs root for apt; does nothing when already installed.
set -euo pipefail
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-rabbitmq.sh: rabbitmq-server is missing; run as root (apt-get install rabbitmq-server)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq rabbitmq-server >/dev/null
echo "rabbitmq-server installed: $(dpkg-query -W -f='${Version}' rabbitmq-server)"
