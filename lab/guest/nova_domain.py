#!/usr/bin/python3
"""nova_domain.py NAME UUID INSTANCE_DIR TAP MAC MTU SERIAL_HOST SERIAL_PORT MEMORY_MIB CPU_MODE [OS_COMMAND_LINE]

Prints the libvirt domain XML that Zed's libvirt driver (virt_type = qemu,
[serial_console] enabled = true, [vnc] enabled = false) writes for an image
with kernel_id and ramdisk_id, one root disk and one port plugged as a tap
("ethernet"), built with Nova's own config classes
(nova.virt.libvirt.config and designer), in the order
LibvirtDriver._get_guest_config adds the devices, so that the elements and
attributes are Nova's and not a lookalike. What needs a running Nova (the
nova:instance metadata, the flavour's extra specs, the image's hw_*
properties) is left out. CPU_MODE is [libvirt] cpu_mode: host-model (Nova's
default for qemu and kvm) or none. OS_COMMAND_LINE is the image property
os_command_line, which replaces Nova's own kernel command line."""
import os
import sys

from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import designer

# nova/virt/libvirt/driver.py CONSOLE, and the flag it adds for virt_type qemu.
CONSOLE = "console=tty0 console=ttyS0 console=hvc0"


def main():
    if len(sys.argv) not in (11, 12):
        sys.exit("usage: " + __doc__.split("\n", 1)[0])
    name, uuid, inst, tap, mac, mtu, shost, sport, mem, cpu_mode = sys.argv[1:11]
    os_command_line = sys.argv[11] if len(sys.argv) == 12 else ""

    guest = vconfig.LibvirtConfigGuest()
    guest.virt_type = "qemu"
    guest.name = name
    guest.uuid = uuid
    guest.memory = int(mem) * 1024
    guest.vcpus = 1

    # _get_guest_cpu_model_config: mode none gives an empty <cpu/>.
    cpu = vconfig.LibvirtConfigGuestCPU()
    if cpu_mode != "none":
        cpu.mode = cpu_mode
        cpu.match = "exact"
    guest.cpu = cpu

    guest.os_type = "hvm"
    # _configure_guest_by_virt_type: x86 gets Nova's SMBIOS system table,
    # which cloud-init recognises OpenStack by.
    guest.os_arch = "x86_64"
    sysinfo = vconfig.LibvirtConfigGuestSysinfo()
    sysinfo.system_manufacturer = "OpenStack Foundation"
    sysinfo.system_product = "OpenStack Nova"
    sysinfo.system_serial = uuid
    sysinfo.system_uuid = uuid
    sysinfo.system_family = "Virtual Machine"
    guest.sysinfo = sysinfo
    guest.os_smbios = vconfig.LibvirtConfigGuestSMBIOS()

    # _set_guest_for_inst_kernel: the image's kernel and ramdisk, copied
    # into the instance directory.
    guest.os_kernel = os.path.join(inst, "kernel")
    guest.os_initrd = os.path.join(inst, "ramdisk")
    guest.os_cmdline = "root=/dev/vda %s no_timer_check" % CONSOLE
    if os_command_line:
        guest.os_cmdline = os_command_line

    # _set_features (x86: ACPI and APIC) and _set_clock (UTC; the kvm
    # timers are for virt_type kvm only).
    guest.features.append(vconfig.LibvirtConfigGuestFeatureACPI())
    guest.features.append(vconfig.LibvirtConfigGuestFeatureAPIC())
    clk = vconfig.LibvirtConfigGuestClock()
    clk.offset = "utc"
    guest.set_clock(clk)

    # The root disk, images_type = raw: a file in the instance directory.
    disk = vconfig.LibvirtConfigGuestDisk()
    disk.source_type = "file"
    disk.source_device = "disk"
    disk.driver_name = "qemu"
    disk.driver_format = "raw"
    disk.driver_cache = "none"
    disk.source_path = os.path.join(inst, "disk")
    disk.target_bus = "virtio"
    disk.target_dev = "vda"
    guest.add_device(disk)

    # The port as os-vif leaves it to libvirt for a tap (vif type "tap"):
    # nova/virt/libvirt/vif.py get_config_tap.
    vif = vconfig.LibvirtConfigGuestInterface()
    vif.mac_addr = mac
    vif.model = "virtio"
    designer.set_vif_host_backend_ethernet_config(vif, tap)
    designer.set_vif_mtu_config(vif, int(mtu))
    guest.add_device(vif)

    # _create_serial_consoles: a TCP serial port bound on
    # proxyclient_address, the first one logged (by virtlogd) to the
    # instance's console.log, which os-getConsoleOutput reads.
    serial = vconfig.LibvirtConfigGuestSerial()
    serial.port = 0
    serial.type = "tcp"
    serial.listen_host = shost
    serial.listen_port = int(sport)
    log = vconfig.LibvirtConfigGuestCharDeviceLog()
    log.file = os.path.join(inst, "console.log")
    serial.log = log
    guest.add_device(serial)

    # _guest_add_usb_root_controller: no USB device, so model none.
    usb = vconfig.LibvirtConfigGuestUSBHostController()
    usb.index = 0
    usb.model = "none"
    guest.add_device(usb)

    # _guest_add_memory_balloon: mem_stats_period_seconds defaults to 10.
    balloon = vconfig.LibvirtConfigMemoryBalloon()
    balloon.model = "virtio"
    balloon.period = 10
    guest.add_device(balloon)

    sys.stdout.write(guest.to_xml())


if __name__ == "__main__":
    main()
