package libcontainer

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/casco-runtime/casco/libcontainer/plan"
)

// How the process is scheduled: I/O priority, scheduler, CPU affinity.
// Each adds an operation only when the field is set.

var ioprioClasses = map[specs.IOPriorityClass]uint64{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint64{
	specs.SchedOther: 0, specs.SchedFIFO: 1, specs.SchedRR: 2, specs.SchedBatch: 3,
	specs.SchedIdle: 5, specs.SchedDeadline: 6,
	// SCHED_ISO (4) was never merged into Linux: refused as unknown
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02, specs.SchedFlagDLOverrun: 0x04,
	specs.SchedFlagKeepPolicy: 0x08, specs.SchedFlagKeepParams: 0x10,
	specs.SchedFlagUtilClampMin: 0x20, specs.SchedFlagUtilClampMax: 0x40,
}

// ioPriority adds ioprio_set(IOPRIO_WHO_PROCESS, 0, class<<13 | level).
func (p *planBuilder) ioPriority(io *specs.LinuxIOPriority) error {
	if io == nil {
		return nil
	}
	class, ok := ioprioClasses[io.Class]
	if !ok {
		return fmt.Errorf("process.ioPriority.class: unknown class %q", io.Class)
	}
	if io.Priority < 0 || io.Priority > 7 {
		return fmt.Errorf("process.ioPriority.priority %d: must be 0 to 7", io.Priority)
	}
	p.Add(plan.OpIOPrio, plan.Ints(class<<13|uint64(io.Priority)))
	return nil
}

// scheduler adds sched_setattr(2) with the policy and its parameters.
func (p *planBuilder) scheduler(s *specs.Scheduler) error {
	if s == nil {
		return nil
	}
	policy, ok := schedPolicies[s.Policy]
	if !ok {
		return fmt.Errorf("process.scheduler.policy: unknown or unsupported policy %q", s.Policy)
	}
	var flags uint64
	for _, f := range s.Flags {
		v, ok := schedFlags[f]
		if !ok {
			return fmt.Errorf("process.scheduler.flags: unknown flag %q", f)
		}
		flags |= v
	}
	if s.Nice < -20 || s.Nice > 19 {
		return fmt.Errorf("process.scheduler.nice %d: must be -20 to 19", s.Nice)
	}
	realtime := s.Policy == specs.SchedFIFO || s.Policy == specs.SchedRR
	if realtime && (s.Priority < 1 || s.Priority > 99) {
		return fmt.Errorf("process.scheduler.priority %d: %s needs 1 to 99", s.Priority, s.Policy)
	}
	if !realtime && s.Priority != 0 {
		return fmt.Errorf("process.scheduler.priority %d: only SCHED_FIFO and SCHED_RR take a priority", s.Priority)
	}
	if s.Policy != specs.SchedDeadline && (s.Runtime != 0 || s.Deadline != 0 || s.Period != 0) {
		return fmt.Errorf("process.scheduler: runtime, deadline and period are for SCHED_DEADLINE only")
	}
	p.Add(plan.OpSched, plan.Ints(policy, flags, uint64(int64(s.Nice)), uint64(s.Priority), s.Runtime, s.Deadline, s.Period))
	return nil
}

// cpuAffinityInitial adds the initial affinity: the init's first operation,
// before it joins its cgroups (as runc sets it before the cgroup move).
func (p *planBuilder) cpuAffinityInitial(a *specs.CPUAffinity) error {
	if a == nil || a.Initial == "" {
		return nil
	}
	mask, err := parseCPUList(a.Initial)
	if err != nil {
		return fmt.Errorf("process.execCPUAffinity.initial: %w", err)
	}
	p.Add(plan.OpCPUAffinity, append(plan.Ints(uint64(len(mask))), mask...))
	return nil
}

// cpuAffinityFinal adds the final affinity, once in the cgroup. With only
// an initial one, the init goes back to the affinity the kernel gave it, as
// with runc, where the cgroup move resets it. With none (and always for the
// container's init) the process may run on every CPU of its cpuset, as runc
// 1.5 resets it: it does not inherit the affinity of whoever ran the
// runtime (a CPU manager pins its own agents, not the containers).
func (p *planBuilder) cpuAffinityFinal(a *specs.CPUAffinity) error {
	if a == nil || (a.Initial == "" && a.Final == "") {
		p.Add(plan.OpCPUAffinity, plan.Ints(0, 1)) // every CPU
		return nil
	}
	if a.Final == "" {
		p.Add(plan.OpCPUAffinity, plan.Ints(0)) // restore
		return nil
	}
	mask, err := parseCPUList(a.Final)
	if err != nil {
		return fmt.Errorf("process.execCPUAffinity.final: %w", err)
	}
	p.Add(plan.OpCPUAffinity, append(plan.Ints(uint64(len(mask))), mask...))
	return nil
}

// When the init reports its CPU affinity (OpReportAffinity's label).
const (
	affinityAtStart = 1 // as it begins in the container: inherited, or execCPUAffinity.initial
	affinityAtExec  = 2 // after the last change: what the process is exec'd with
)

var affinityLabels = map[byte]string{affinityAtStart: "at start", affinityAtExec: "at exec"}

// reportAffinity has the init tell the CPU affinity the kernel holds for it
// at this point, for --debug (runc logs its init's affinity the same way).
func (p *planBuilder) reportAffinity(when uint64) {
	if logrus.IsLevelEnabled(logrus.DebugLevel) {
		p.Add(plan.OpReportAffinity, plan.Ints(when))
	}
}

// logAffinity logs one report of the init: its label and the mask the
// kernel gave sched_getaffinity, as a CPU list.
func logAffinity(who string, pid int, data []byte) {
	if len(data) == 0 {
		return
	}
	label, ok := affinityLabels[data[0]]
	if !ok {
		label = fmt.Sprintf("label %d", data[0])
	}
	if len(data) == 1 {
		logrus.WithField("pid", pid).Debugf("%s: cpu affinity %s: sched_getaffinity failed", who, label)
		return
	}
	logrus.WithField("pid", pid).Debugf("%s: cpu affinity %s: %s", who, label, cpuList(data[1:]))
}

// cpuList writes a kernel CPU mask (bit i of byte j is CPU 8j+i) as a
// list, the way /proc/PID/status's Cpus_allowed_list does: "0-3,7".
func cpuList(mask []byte) string {
	var parts []string
	n := len(mask) * 8
	isSet := func(i int) bool { return mask[i/8]&(1<<(i%8)) != 0 }
	for i := 0; i < n; i++ {
		if !isSet(i) {
			continue
		}
		j := i
		for j+1 < n && isSet(j+1) {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(i))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", i, j))
		}
		i = j
	}
	return strings.Join(parts, ",")
}

// maxCPUs bounds a CPU or node list: the kernel's NR_CPUS is at most 8192.
const maxCPUs = 8192

// parseCPUList turns "0-3,7" into a bit mask in 64-bit words, as the
// kernel's cpumask and nodemask take it.
func parseCPUList(list string) ([]uint64, error) {
	var mask []uint64
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q: %q is not a number or range", list, part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 32); err != nil || b < a {
				return nil, fmt.Errorf("%q: %q is not a number or range", list, part)
			}
		}
		if b >= maxCPUs {
			return nil, fmt.Errorf("%q: %d is beyond the kernel's limit of %d", list, b, maxCPUs)
		}
		for i := a; i <= b; i++ {
			for uint64(len(mask)) <= i/64 {
				mask = append(mask, 0)
			}
			mask[i/64] |= 1 << (i % 64)
		}
	}
	return mask, nil
}

// scheduling adds the scheduler and I/O priority: before the identity
// change, while the init still has CAP_SYS_NICE and CAP_SYS_ADMIN.
func (p *planBuilder) scheduling(proc *specs.Process) error {
	if err := p.cpuAffinityFinal(proc.ExecCPUAffinity); err != nil {
		return err
	}
	if err := p.scheduler(proc.Scheduler); err != nil {
		return err
	}
	return p.ioPriority(proc.IOPriority)
}

// validateScheduling checks the same fields before anything is made.
func validateScheduling(proc *specs.Process) error {
	p := &planBuilder{}
	if err := p.cpuAffinityInitial(proc.ExecCPUAffinity); err != nil {
		return err
	}
	return p.scheduling(proc)
}
