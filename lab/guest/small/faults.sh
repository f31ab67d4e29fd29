# shellcheck shell=sh
# /etc/hbg-faults.sh, sourced by rc.boot and udhcpc's default.script: the
# faults the kernel command line asks for (hbg.fault=NAME, repeatable), the
# lab's hook for faults that must act before or during DHCP, when user-data
# (fetched after the lease) is too late. Nova passes the image property
# os_command_line verbatim, so one Glance image per fault. A value is a word
# compared with the known names, never evaluated.
HBG_FAULTS_KNOWN="no-host-routes no-metadata-route firewall-icmp firewall-dhcp firewall-dhcp-input"

# hbg_faults: the known faults on the kernel command line, one per line.
# With "warn", one console line for each unknown value.
hbg_faults() {
  set -f # a word such as "*" stays a word
  # shellcheck disable=SC2013 # the command line is words
  for w in $(cat /proc/cmdline); do
    case "$w" in
    hbg.fault=*)
      v=${w#hbg.fault=}
      case " $HBG_FAULTS_KNOWN " in
      *" $v "*) echo "$v" ;;
      *) [ "${1:-}" = warn ] && echo "hbg: unknown fault '$v' on the kernel command line, ignored" >&2 ;;
      esac
      ;;
    esac
  done
  set +f
}

# hbg_fault NAME: true when the kernel command line asks for fault NAME.
hbg_fault() { hbg_faults | grep -qx "$1"; }
