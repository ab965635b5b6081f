package io.headgate.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.headgate.api.v1.DeleteProfileRequest;
import io.headgate.api.v1.GetProfileRequest;
import io.headgate.api.v1.HeadGain;
import io.headgate.api.v1.ListProfilesRequest;
import io.headgate.api.v1.Profile;
import io.headgate.api.v1.ProfileSpec;
import io.headgate.api.v1.Profiles;
import io.headgate.api.v1.PutProfileRequest;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The admin Profiles service: bearer token, revisions, optimistic concurrency, validation. */
@QuarkusTest
class ProfilesApiTest extends GatewayTestBase {

    static <T> T await(Uni<T> uni) {
        return uni.await().atMost(Duration.ofSeconds(10));
    }

    static Status failure(Uni<?> uni) {
        return catchThrowableOfType(StatusRuntimeException.class, () -> await(uni)).getStatus();
    }

    static ProfileSpec gain(float g) {
        return ProfileSpec.newBuilder().setDescription("gain " + g).addGains(HeadGain.newBuilder().setLayer(1).setHead(2).setGain(g)).build();
    }

    PutProfileRequest put(String name, float g, long expected) {
        return PutProfileRequest.newBuilder().setModel(MODEL).setName(name).setSpec(gain(g)).setExpectedRevision(expected).build();
    }

    @Test
    void adminCallsNeedTheToken() {
        Status none = failure(profilesWithoutToken.list(ListProfilesRequest.getDefaultInstance()));
        assertThat(none.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        Status wrong = failure(adminWith("Bearer not-the-token").put(put("x", 1f, 0)));
        assertThat(wrong.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(wrong.getDescription()).contains("wrong");
    }

    @Test
    void withoutAConfiguredTokenAdminIsRefusedWithHowToSetOne() {
        Optional<Status> refusal = AdminAuth.check(Optional.empty(), "Bearer anything");
        assertThat(refusal).get().satisfies(s -> {
            assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(s.getDescription()).contains("headgate.admin.token").contains("HEADGATE_ADMIN_TOKEN");
        });
        assertThat(AdminAuth.check(Optional.of("t"), "Bearer t")).isEmpty();
    }

    @Test
    void revisionsAndOptimisticConcurrency() {
        Profiles admin = admin();
        String name = "p-" + UUID.randomUUID().toString().substring(0, 8);
        Profile r1 = await(admin.put(put(name, 1.2f, 0)));
        assertThat(r1.getRevision()).isEqualTo(1);
        Profile r2 = await(admin.put(put(name, 1.4f, 1)));
        assertThat(r2.getRevision()).isEqualTo(2);

        Status stale = failure(admin.put(put(name, 1.6f, 1)));
        assertThat(stale.getCode()).isEqualTo(Status.Code.ABORTED);
        assertThat(stale.getDescription()).contains("expected_revision").contains("2");
        Status exists = failure(admin.put(put(name, 1.6f, 0)));
        assertThat(exists.getCode()).isEqualTo(Status.Code.ABORTED);

        assertThat(await(admin.get(GetProfileRequest.newBuilder().setModel(MODEL).setName(name).build())).getSpec()).isEqualTo(gain(1.4f));
        assertThat(await(admin.get(GetProfileRequest.newBuilder().setModel(MODEL).setName(name).setRevision(1).build())).getSpec()).isEqualTo(gain(1.2f));
        assertThat(await(admin.list(ListProfilesRequest.newBuilder().setModel(MODEL).build())).getProfilesList())
                .extracting(Profile::getName).contains(name, "pag-l1", "ablate-l3");

        long deleted = await(admin.delete(DeleteProfileRequest.newBuilder().setModel(MODEL).setName(name).setExpectedRevision(2).build())).getRevision();
        assertThat(deleted).isEqualTo(3);
        assertThat(failure(admin.get(GetProfileRequest.newBuilder().setModel(MODEL).setName(name).build())).getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(await(admin.put(put(name, 1.1f, 0))).getRevision()).isEqualTo(4);
    }

    @Test
    void invalidPutsNameTheField() {
        Profiles admin = admin();
        Status reserved = failure(admin.put(put("identity", 1f, 0)));
        assertThat(reserved.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(reserved.getDescription()).startsWith("name:");
        Status badName = failure(admin.put(put("has space", 1f, 0)));
        assertThat(badName.getDescription()).startsWith("name:");
        Status badHead = failure(admin.put(PutProfileRequest.newBuilder().setModel(MODEL).setName("bad-head")
                .setSpec(ProfileSpec.newBuilder().addGains(HeadGain.newBuilder().setLayer(0).setHead(8).setGain(1))).build()));
        assertThat(badHead.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(badHead.getDescription()).startsWith("spec.gains[0].head:");
        Status unknownModel = failure(admin.put(PutProfileRequest.newBuilder().setModel("gpt-9").setName("x").setSpec(gain(1f)).build()));
        assertThat(unknownModel.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(unknownModel.getDescription()).startsWith("model:");
    }
}
