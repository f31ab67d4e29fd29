package rule

// Catalogue returns every rule, in the order that breaks ties when ranking:
// within a domain, root causes come before the symptoms they explain, and
// common causes before exotic ones.
func Catalogue() []*Rule {
	return []*Rule{
		instanceNotActive,
		instanceNoNetworkPort,
		instanceDHCPFailed,
		instanceGuestNetworkConfig,
		instanceMetadataUnreachable,
		instanceCloudInitFailed,

		portAdminDown,
		portBindingFailed,
		portNoFixedIP,
		portDown,

		sgIcmpIngressMissing,
		sgIngressMissing,
		sgEgressMissing,
		sgPortSecurityDisabled,

		subnetNoGateway,
		subnetPoolExhausted,
		subnetDHCPDisabled,

		networkAdminDown,
		networkNotActive,
		networkNoDHCPPort,
		networkMTUMismatch,
		networkSegment,

		agentL2Down,
		agentDHCPNotHosting,
		agentDHCPDown,
		agentL3Down,
		agentMetadataDown,

		routerMissing,
		routerAdminDown,
		routerNotActive,
		routerNotScheduled,
		routerNoGateway,

		floatingIPDown,
		floatingIPNone,

		ovnChassisDown,
		ovnNBCfgLag,
		ovnLSPMissing,
		ovnLSPDown,
		ovnBindingWrongChassis,
		ovnEncapMismatch,
		ovnDHCPOptionsMissing,
		ovnACLMismatch,
		ovnGatewayChassisMissing,
		ovnNATMissing,
		ovnMetadataMissing,
		ovnTraceDrop,

		hostNetnsMissing,
		hostRouterInterfaceMissing,
		hostDHCPInterfaceMissing,
		hostDnsmasqNotRunning,
		hostDeviceDown,
		hostVIFDetached,
		hostMTUTooSmall,
		hostOVSDeadVLAN,
		hostOVSTagMismatch,
		hostOVSFlowMissing,
		hostL2PopEntryMissing,
		hostTraceDrop,
		hostInstanceUnreachable,
		hostTunnelPeerBlocked,
		hostBridgeMissing,
		hostSerialConsoleConfig,
		hostSerialproxyNotRunning,
		hostSerialConsoleStaleListen,
		hostSELinuxDenial,
		hostAgentLogError,
		hostOVSPortError,
		hostFloatingNetworkUnroutable,
	}
}
