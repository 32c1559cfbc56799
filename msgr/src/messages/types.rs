//! Message type numbers (msgr2.md §5.5), with Ceph's constant names.

/// `CEPH_MSG_PING` (2): MPing.
pub const CEPH_MSG_PING: u16 = 0x0002;
/// `CEPH_MSG_MON_MAP` (4): MMonMap.
pub const CEPH_MSG_MON_MAP: u16 = 0x0004;
/// `CEPH_MSG_MON_GET_MAP` (5): MMonGetMap.
pub const CEPH_MSG_MON_GET_MAP: u16 = 0x0005;
/// `CEPH_MSG_MON_SUBSCRIBE` (15): MMonSubscribe.
pub const CEPH_MSG_MON_SUBSCRIBE: u16 = 0x000F;
/// `CEPH_MSG_MON_SUBSCRIBE_ACK` (16): MMonSubscribeAck.
pub const CEPH_MSG_MON_SUBSCRIBE_ACK: u16 = 0x0010;
/// `CEPH_MSG_AUTH` (17): MAuth, msgr1-era auth, not used with msgr2.
pub const CEPH_MSG_AUTH: u16 = 0x0011;
/// `CEPH_MSG_AUTH_REPLY` (18): MAuthReply, not used with msgr2.
pub const CEPH_MSG_AUTH_REPLY: u16 = 0x0012;
/// `CEPH_MSG_MON_GET_VERSION` (19): MMonGetVersion.
pub const CEPH_MSG_MON_GET_VERSION: u16 = 0x0013;
/// `CEPH_MSG_MON_GET_VERSION_REPLY` (20): MMonGetVersionReply.
pub const CEPH_MSG_MON_GET_VERSION_REPLY: u16 = 0x0014;
/// `CEPH_MSG_OSD_MAP` (41): MOSDMap.
pub const CEPH_MSG_OSD_MAP: u16 = 0x0029;
/// `CEPH_MSG_FS_MAP` (45): MFSMap.
pub const CEPH_MSG_FS_MAP: u16 = 0x002D;
/// `MSG_MON_COMMAND` (50): MMonCommand.
pub const MSG_MON_COMMAND: u16 = 0x0032;
/// `MSG_MON_COMMAND_ACK` (51): MMonCommandAck.
pub const MSG_MON_COMMAND_ACK: u16 = 0x0033;
/// `MSG_LOG` (52): MLog.
pub const MSG_LOG: u16 = 0x0034;
/// `MSG_LOGACK` (53): MLogAck.
pub const MSG_LOGACK: u16 = 0x0035;
/// `MSG_KV_DATA` (54): MKVData (name unsure, §9.4 U6).
pub const MSG_KV_DATA: u16 = 0x0036;
/// `MSG_CONFIG` (62): MConfig.
pub const MSG_CONFIG: u16 = 0x003E;
/// `MSG_GET_CONFIG` (63): MGetConfig.
pub const MSG_GET_CONFIG: u16 = 0x003F;
/// `MSG_COMMAND` (97): MCommand ("tell").
pub const MSG_COMMAND: u16 = 0x0061;
/// `MSG_COMMAND_REPLY` (98): MCommandReply.
pub const MSG_COMMAND_REPLY: u16 = 0x0062;
/// `MSG_MGR_OPEN` (0x700): MMgrOpen.
pub const MSG_MGR_OPEN: u16 = 0x0700;
/// `MSG_MGR_CONFIGURE` (0x701): MMgrConfigure.
pub const MSG_MGR_CONFIGURE: u16 = 0x0701;
/// `MSG_MGR_REPORT` (0x702): MMgrReport.
pub const MSG_MGR_REPORT: u16 = 0x0702;
/// `MSG_MGR_BEACON` (0x703): MMgrBeacon.
pub const MSG_MGR_BEACON: u16 = 0x0703;
/// `MSG_MGR_MAP` (0x704): MMgrMap.
pub const MSG_MGR_MAP: u16 = 0x0704;
/// `MSG_MGR_DIGEST` (0x705): MMgrDigest.
pub const MSG_MGR_DIGEST: u16 = 0x0705;
/// `MSG_MON_MGR_REPORT` (0x706): MMonMgrReport.
pub const MSG_MON_MGR_REPORT: u16 = 0x0706;
/// `MSG_SERVICE_MAP` (0x707): MServiceMap.
pub const MSG_SERVICE_MAP: u16 = 0x0707;
/// `MSG_MGR_CLOSE` (0x708): MMgrClose.
pub const MSG_MGR_CLOSE: u16 = 0x0708;
/// `MSG_MGR_COMMAND` (0x709): MMgrCommand.
pub const MSG_MGR_COMMAND: u16 = 0x0709;
/// `MSG_MGR_COMMAND_REPLY` (0x70A): MMgrCommandReply.
pub const MSG_MGR_COMMAND_REPLY: u16 = 0x070A;

/// Every type of §5.5: (number, Ceph constant, message class).
const KNOWN: &[(u16, &str, &str)] = &[
    (CEPH_MSG_PING, "CEPH_MSG_PING", "MPing"),
    (CEPH_MSG_MON_MAP, "CEPH_MSG_MON_MAP", "MMonMap"),
    (CEPH_MSG_MON_GET_MAP, "CEPH_MSG_MON_GET_MAP", "MMonGetMap"),
    (
        CEPH_MSG_MON_SUBSCRIBE,
        "CEPH_MSG_MON_SUBSCRIBE",
        "MMonSubscribe",
    ),
    (
        CEPH_MSG_MON_SUBSCRIBE_ACK,
        "CEPH_MSG_MON_SUBSCRIBE_ACK",
        "MMonSubscribeAck",
    ),
    (CEPH_MSG_AUTH, "CEPH_MSG_AUTH", "MAuth"),
    (CEPH_MSG_AUTH_REPLY, "CEPH_MSG_AUTH_REPLY", "MAuthReply"),
    (
        CEPH_MSG_MON_GET_VERSION,
        "CEPH_MSG_MON_GET_VERSION",
        "MMonGetVersion",
    ),
    (
        CEPH_MSG_MON_GET_VERSION_REPLY,
        "CEPH_MSG_MON_GET_VERSION_REPLY",
        "MMonGetVersionReply",
    ),
    (CEPH_MSG_OSD_MAP, "CEPH_MSG_OSD_MAP", "MOSDMap"),
    (CEPH_MSG_FS_MAP, "CEPH_MSG_FS_MAP", "MFSMap"),
    (MSG_MON_COMMAND, "MSG_MON_COMMAND", "MMonCommand"),
    (MSG_MON_COMMAND_ACK, "MSG_MON_COMMAND_ACK", "MMonCommandAck"),
    (MSG_LOG, "MSG_LOG", "MLog"),
    (MSG_LOGACK, "MSG_LOGACK", "MLogAck"),
    (MSG_KV_DATA, "MSG_KV_DATA", "MKVData"),
    (MSG_CONFIG, "MSG_CONFIG", "MConfig"),
    (MSG_GET_CONFIG, "MSG_GET_CONFIG", "MGetConfig"),
    (MSG_COMMAND, "MSG_COMMAND", "MCommand"),
    (MSG_COMMAND_REPLY, "MSG_COMMAND_REPLY", "MCommandReply"),
    (MSG_MGR_OPEN, "MSG_MGR_OPEN", "MMgrOpen"),
    (MSG_MGR_CONFIGURE, "MSG_MGR_CONFIGURE", "MMgrConfigure"),
    (MSG_MGR_REPORT, "MSG_MGR_REPORT", "MMgrReport"),
    (MSG_MGR_BEACON, "MSG_MGR_BEACON", "MMgrBeacon"),
    (MSG_MGR_MAP, "MSG_MGR_MAP", "MMgrMap"),
    (MSG_MGR_DIGEST, "MSG_MGR_DIGEST", "MMgrDigest"),
    (MSG_MON_MGR_REPORT, "MSG_MON_MGR_REPORT", "MMonMgrReport"),
    (MSG_SERVICE_MAP, "MSG_SERVICE_MAP", "MServiceMap"),
    (MSG_MGR_CLOSE, "MSG_MGR_CLOSE", "MMgrClose"),
    (MSG_MGR_COMMAND, "MSG_MGR_COMMAND", "MMgrCommand"),
    (
        MSG_MGR_COMMAND_REPLY,
        "MSG_MGR_COMMAND_REPLY",
        "MMgrCommandReply",
    ),
];

/// The message class name of a type number listed in §5.5 (e.g. `"MMonCommand"` for 50), or
/// `None` for a number this crate does not know.
pub fn message_type_name(msg_type: u16) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(n, _, _)| *n == msg_type)
        .map(|(_, _, class)| *class)
}

/// The Ceph constant of a type number listed in §5.5 (e.g. `"MSG_MON_COMMAND"` for 50).
pub fn message_type_constant(msg_type: u16) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(n, _, _)| *n == msg_type)
        .map(|(_, constant, _)| *constant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for (i, (n, constant, class)) in KNOWN.iter().enumerate() {
            assert!(KNOWN[i + 1..].iter().all(|(m, _, _)| m != n), "{constant}");
            assert_eq!(message_type_name(*n), Some(*class));
            assert_eq!(message_type_constant(*n), Some(*constant));
        }
        assert_eq!(
            message_type_name(MSG_MGR_COMMAND_REPLY),
            Some("MMgrCommandReply")
        );
        assert_eq!(message_type_name(0x1234), None);
    }
}
