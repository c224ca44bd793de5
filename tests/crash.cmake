# Crash, power-loss and fault-injection suites. Included by tests/CMakeLists.txt
# after runnel_test() and runnel_testutil are defined.
#
# Default entries (labels crash / power_loss / fault) are sized to finish in
# well under a minute together. The long entries carry the label "long"
# (run them with `ctest -L long`); their names deliberately do not match
# 'Crash|Power|Fault' so that `ctest -R 'Crash|Power|Fault'` stays quick.

# The fault-injecting Env (tests/fault_env.h).
add_library(runnel_fault_env STATIC ${CMAKE_CURRENT_SOURCE_DIR}/fault_env.cc)
target_link_libraries(runnel_fault_env PUBLIC runnel_testutil leveldb::leveldb)
target_compile_options(runnel_fault_env PRIVATE ${RUNNEL_WARNING_FLAGS})

# What the campaigns and their child processes share (tests/campaign.h).
add_library(runnel_campaign STATIC ${CMAKE_CURRENT_SOURCE_DIR}/campaign.cc
            ${CMAKE_CURRENT_SOURCE_DIR}/view_check.cc)
target_link_libraries(runnel_campaign PUBLIC runnel_testutil Threads::Threads
                      PRIVATE nlohmann_json::nlohmann_json CapnProto::capnp PkgConfig::XXHASH)
target_compile_options(runnel_campaign PRIVATE ${RUNNEL_WARNING_FLAGS})

# The child process of crash_test: writes and reports acknowledgements.
add_executable(crash_writer ${CMAKE_CURRENT_SOURCE_DIR}/crash_writer.cc)
target_link_libraries(crash_writer PRIVATE runnel_campaign)
target_compile_options(crash_writer PRIVATE ${RUNNEL_WARNING_FLAGS})

runnel_test(crash_test crash_test.cc LABELS crash TIMEOUT 600 LIBS runnel_campaign)
target_compile_definitions(crash_test PRIVATE
  CRASH_WRITER_PATH="$<TARGET_FILE:crash_writer>")
add_dependencies(crash_test crash_writer)

runnel_test(power_loss_test power_loss_test.cc LABELS power_loss TIMEOUT 600
            LIBS runnel_fault_env runnel_campaign)
runnel_test(fault_test fault_test.cc LABELS fault TIMEOUT 300
            LIBS runnel_fault_env)

# Long runs: many more trials of the same tests.
add_test(NAME long_crash_1000_trials
         COMMAND crash_test --gtest_filter=CrashTest.RandomKills)
set_tests_properties(long_crash_1000_trials PROPERTIES
  ENVIRONMENT "RUNNEL_CRASH_TRIALS=1000" LABELS long TIMEOUT 3600)
add_test(NAME long_power_loss_1000_iterations
         COMMAND power_loss_test --gtest_filter=PowerLossTest.*)
set_tests_properties(long_power_loss_1000_iterations PROPERTIES
  ENVIRONMENT "RUNNEL_POWER_LOSS_ITERATIONS=1000" LABELS long TIMEOUT 3600)

# Trigger write-backs under SIGKILL: the child process of trigger_crash_test
# runs the trigger runtime (tests/trigger_crash_host.cc) and is killed at
# random moments; the test checks that write-backs are exactly-once.
add_executable(trigger_crash_host ${CMAKE_CURRENT_SOURCE_DIR}/trigger_crash_host.cc)
target_link_libraries(trigger_crash_host PRIVATE runnel_campaign)
target_compile_options(trigger_crash_host PRIVATE ${RUNNEL_WARNING_FLAGS})

runnel_test(trigger_crash_test trigger_crash_test.cc LABELS crash TIMEOUT 600
            LIBS runnel_campaign)
target_compile_definitions(trigger_crash_test PRIVATE
  TRIGGER_HOST_PATH="$<TARGET_FILE:trigger_crash_host>"
  TEST_FUNCTION="$<TARGET_FILE:test_function>"
  MATERIALIZED_VIEW="$<TARGET_FILE:materialized_view>")
add_dependencies(trigger_crash_test trigger_crash_host test_function materialized_view)

add_test(NAME long_trigger_crash_1000_trials
         COMMAND trigger_crash_test
                 --gtest_filter=TriggerCrashTest.WriteBacksAreExactlyOnceUnderSigkill)
set_tests_properties(long_trigger_crash_1000_trials PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_CRASH_TRIALS=1000" LABELS long TIMEOUT 3600)
add_test(NAME long_trigger_crash_lanes_1000_trials
         COMMAND trigger_crash_test
                 --gtest_filter=TriggerCrashTest.FourLanesWriteBacksAreExactlyOnceUnderSigkill)
set_tests_properties(long_trigger_crash_lanes_1000_trials PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_CRASH_LANES_TRIALS=1000" LABELS long TIMEOUT 3600)

# The materialized view (examples/materialized_view) under SIGKILL.
add_test(NAME long_trigger_view_crash_1000_trials
         COMMAND trigger_crash_test
                 --gtest_filter=TriggerCrashTest.MaterializedViewEqualsRecomputationUnderSigkill)
set_tests_properties(long_trigger_view_crash_1000_trials PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_VIEW_CRASH_TRIALS=1000" LABELS long TIMEOUT 7200)

# Trigger write-backs under power loss (in-process, over the fault env).
runnel_test(trigger_power_loss_test trigger_power_loss_test.cc LABELS power_loss
            TIMEOUT 600 LIBS runnel_fault_env runnel_campaign)
target_compile_definitions(trigger_power_loss_test PRIVATE
  MATERIALIZED_VIEW="$<TARGET_FILE:materialized_view>"
  WINDOW_FUNCTION="$<TARGET_FILE:window_function>")
add_dependencies(trigger_power_loss_test materialized_view window_function)
add_test(NAME long_trigger_power_loss_1000_iterations
         COMMAND trigger_power_loss_test
                 --gtest_filter=TriggerPowerLossTest.WriteBacksStayWithTheirCheckpoint)
set_tests_properties(long_trigger_power_loss_1000_iterations PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_POWER_LOSS_ITERATIONS=1000" LABELS long TIMEOUT 3600)
add_test(NAME long_trigger_view_power_loss_1000_iterations
         COMMAND trigger_power_loss_test
                 --gtest_filter=TriggerPowerLossTest.MaterializedViewStaysWithItsCheckpoint)
set_tests_properties(long_trigger_view_power_loss_1000_iterations PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_VIEW_POWER_LOSS_ITERATIONS=1000" LABELS long TIMEOUT 3600)
add_test(NAME long_trigger_filter_power_loss_1000_iterations
         COMMAND trigger_power_loss_test
                 --gtest_filter=TriggerPowerLossTest.FilteredWriteBacksStayWithTheirCheckpoint)
set_tests_properties(long_trigger_filter_power_loss_1000_iterations PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_FILTER_POWER_LOSS_ITERATIONS=1000" LABELS long TIMEOUT 3600)
add_test(NAME long_trigger_lanes_power_loss_1000_iterations
         COMMAND trigger_power_loss_test
                 --gtest_filter=TriggerPowerLossTest.FourLanesWriteBacksStayWithTheirCheckpoints)
set_tests_properties(long_trigger_lanes_power_loss_1000_iterations PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_LANES_POWER_LOSS_ITERATIONS=1000" LABELS long TIMEOUT 3600)
add_test(NAME long_trigger_windows_power_loss_1000_iterations
         COMMAND trigger_power_loss_test
                 --gtest_filter=TriggerPowerLossTest.WindowTotalsAreExactAndFinalOnce)
set_tests_properties(long_trigger_windows_power_loss_1000_iterations PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_WINDOWS_POWER_LOSS_ITERATIONS=1000" LABELS long TIMEOUT 7200)

# Typed transactions under SIGKILL: the child (tests/items_crash_writer.cc)
# runs TransactWriteItems until it is killed; each transaction must be all
# there or not at all, in the tables and in the stream.
add_executable(items_crash_writer ${CMAKE_CURRENT_SOURCE_DIR}/items_crash_writer.cc)
target_link_libraries(items_crash_writer PRIVATE runnel_campaign)
target_compile_options(items_crash_writer PRIVATE ${RUNNEL_WARNING_FLAGS})
runnel_test(items_crash_test items_crash_test.cc LABELS crash TIMEOUT 600 LIBS runnel_campaign)
target_compile_definitions(items_crash_test PRIVATE
  ITEMS_CRASH_WRITER_PATH="$<TARGET_FILE:items_crash_writer>")
add_dependencies(items_crash_test items_crash_writer)
add_test(NAME long_items_crash_500_trials
         COMMAND items_crash_test --gtest_filter=ItemsCrashTest.*)
set_tests_properties(long_items_crash_500_trials PROPERTIES
  ENVIRONMENT "RUNNEL_ITEMS_CRASH_TRIALS=500" LABELS long TIMEOUT 3600)

# Tumbling windows under SIGKILL: the child process of trigger_crash_windows_test
# (tests/trigger_crash_windows_host.cc) aggregates in windows of 1 s with the
# window_function plugin and is killed mid-window; every window's total must
# be exact and final once.
add_executable(trigger_crash_windows_host
               ${CMAKE_CURRENT_SOURCE_DIR}/trigger_crash_windows_host.cc)
target_link_libraries(trigger_crash_windows_host PRIVATE runnel_campaign)
target_compile_options(trigger_crash_windows_host PRIVATE ${RUNNEL_WARNING_FLAGS})
runnel_test(trigger_crash_windows_test trigger_crash_windows_test.cc LABELS crash TIMEOUT 600
            LIBS runnel_campaign)
target_compile_definitions(trigger_crash_windows_test PRIVATE
  WINDOWS_HOST_PATH="$<TARGET_FILE:trigger_crash_windows_host>"
  WINDOW_FUNCTION="$<TARGET_FILE:window_function>")
add_dependencies(trigger_crash_windows_test trigger_crash_windows_host window_function)
add_test(NAME long_trigger_crash_windows_1000_trials
         COMMAND trigger_crash_windows_test
                 --gtest_filter=TriggerCrashWindowsTest.WindowTotalsAreExactAndFinalOnceUnderSigkill)
set_tests_properties(long_trigger_crash_windows_1000_trials PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_CRASH_WINDOWS_TRIALS=1000" LABELS long TIMEOUT 36000)
# Snapshot bootstrap under SIGKILL (StartingPosition SNAPSHOT): the child
# (tests/trigger_crash_snapshot_host.cc) is killed during the snapshot phase
# while writes race the scan; nothing may be missed or doubled.
add_executable(trigger_crash_snapshot_host
               ${CMAKE_CURRENT_SOURCE_DIR}/trigger_crash_snapshot_host.cc)
target_link_libraries(trigger_crash_snapshot_host PRIVATE runnel_campaign)
target_compile_options(trigger_crash_snapshot_host PRIVATE ${RUNNEL_WARNING_FLAGS})
runnel_test(trigger_crash_snapshot_test trigger_crash_snapshot_test.cc LABELS crash TIMEOUT 600
            LIBS runnel_campaign)
target_compile_definitions(trigger_crash_snapshot_test PRIVATE
  SNAPSHOT_HOST_PATH="$<TARGET_FILE:trigger_crash_snapshot_host>"
  SNAPSHOT_FUNCTION="$<TARGET_FILE:snapshot_function>")
add_dependencies(trigger_crash_snapshot_test trigger_crash_snapshot_host snapshot_function)
add_test(NAME long_trigger_snapshot_crash_1000_trials
         COMMAND trigger_crash_snapshot_test
                 --gtest_filter=TriggerCrashSnapshotTest.*)
set_tests_properties(long_trigger_snapshot_crash_1000_trials PROPERTIES
  ENVIRONMENT "RUNNEL_TRIGGER_SNAPSHOT_TRIALS=1000" LABELS long TIMEOUT 3600)
