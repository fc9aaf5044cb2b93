# Sourced by the benches that simulate a cohort's ideal outputs: `harmonize simulate` options that scan each
# session with the OTHER session's protocol and tissue T1s (the simulator's default protocols swapped), so the
# 1.5 T session becomes a 3 T-contrast image of the 1.5 T acquisition and the 3 T session a 1.5 T-contrast image
# of the 3 T acquisition. Only for cohorts simulated with the default protocols. SNR options are the caller's.
swapped_protocol_flags=(--ti-1p5T 900 --tr-1p5T 2300 --flip-1p5T 9 --wm-t1-1p5T 838 --gm-t1-1p5T 1607
  --echo-spacing-1p5T 7.1 --lesion-t1-1p5T 1300 --ti-3T 1100 --tr-3T 2080 --flip-3T 15 --wm-t1-3T 646
  --gm-t1-3T 1197 --echo-spacing-3T 9.5 --lesion-t1-3T 1050)
