"""A fake virt driver whose serial consoles are real TCP ports, as libvirt's.

nova's FakeDriver answers get_serial_console() with the made-up endpoint
fakerdpconsole.com:6969 and internal_access_path='FAKE', and
nova-serialproxy's code path for internal_access_path is broken on Python 3
(bytes.find with a str): no console byte ever flows. Real drivers return
internal_access_path=None. This driver does what the libvirt driver does
instead: at spawn it takes a port from [serial_console] port_range on
[serial_console] proxyclient_address (nova.console.serial.acquire_port),
listens there for the guest's serial port, and hands that address to the
proxy. So the real nova-serialproxy carries real bytes, and a wrong
proxyclient_address breaks the console for real.

nova loads compute_driver from the nova.virt package only, so up.sh installs
this file there; compute_driver = hoofbeat_lab_virt.SerialFakeDriver. Behind each port sits a tiny getty:
it echoes what is typed and answers Enter with "<name> login: ".
"""
import socket

import eventlet
from oslo_log import log as logging

import nova.conf
from nova.console import serial as serial_console
from nova.console import type as ctype
from nova import exception
from nova.virt import fake

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)


def _getty(conn, name):
    prompt = ("\r\n%s login: " % name).encode()
    with conn:
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                out = bytearray()
                for b in data:
                    out += prompt if b in (10, 13) else bytes([b])
                conn.sendall(bytes(out))
        except OSError:
            return


def _serve(sock, name):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        eventlet.spawn_n(_getty, conn, name)


class SerialFakeDriver(fake.FakeDriver):
    """FakeDriver with a listening serial port per instance."""

    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi, read_only)
        self._serial = {}  # instance uuid -> (host, port, socket)

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        super().spawn(context, instance, image_meta, injected_files,
                      admin_password, allocations, network_info,
                      block_device_info, power_on, accel_info)
        if CONF.serial_console.enabled:
            self._open_serial(instance)

    def _open_serial(self, instance):
        host = CONF.serial_console.proxyclient_address
        port = serial_console.acquire_port(host)
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(4)
        eventlet.spawn_n(_serve, sock, instance.hostname or instance.uuid)
        self._serial[instance.uuid] = (host, port, sock)
        LOG.info("serial console of %s listens on %s:%d", instance.uuid, host, port)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        entry = self._serial.pop(instance.uuid, None)
        if entry:
            host, port, sock = entry
            sock.close()
            serial_console.release_port(host, port)
        return super().destroy(context, instance, network_info,
                               block_device_info, destroy_disks,
                               destroy_secrets)

    def get_serial_console(self, context, instance):
        if not CONF.serial_console.enabled:
            raise exception.ConsoleTypeUnavailable(console_type='serial')
        entry = self._serial.get(instance.uuid)
        if entry is None:
            # The instance predates this nova-compute (FakeDriver forgets its
            # instances on restart while Nova still runs them here): open its
            # port now, where the current configuration says, as a hard
            # reboot would.
            self._open_serial(instance)
            entry = self._serial[instance.uuid]
        host, port, _ = entry
        return ctype.ConsoleSerial(host=host, port=port)
